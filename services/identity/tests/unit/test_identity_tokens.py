"""Password hashing and refresh-token helpers (CPU only, no I/O)."""
from identity import passwords, tokens


def test_argon2id_hash_and_verify():
    h = passwords.hash_password("Sandi-Rahasia-1")
    assert h.startswith("$argon2id$")
    assert passwords.verify_password(h, "Sandi-Rahasia-1")
    assert not passwords.verify_password(h, "Sandi-Rahasia-2")
    assert not passwords.verify_password("not a hash", "Sandi-Rahasia-1")
    assert not passwords.needs_rehash(h)


def test_unknown_user_is_checked_against_a_dummy_and_never_matches():
    assert not passwords.verify_password(None, "")
    assert not passwords.verify_password(None, "anything")


def test_refresh_tokens_are_random_and_stored_as_sha256():
    token, digest = tokens.new_refresh_token()
    other, _ = tokens.new_refresh_token()
    assert token != other and len(token) >= 43
    assert digest == tokens.hash_token(token) and len(digest) == 64 and token not in digest
