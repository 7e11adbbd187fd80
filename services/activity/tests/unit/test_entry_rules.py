"""Entry lifecycle rules, batch checking, supervisor resolution, month figures, evidence types:
pure rules, no I/O."""
from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from ekinerja_common.errors import Conflict, DomainError, ValidationFailed
from activity import domain
from ekinerja_common import evidence
from activity.domain import Draft, Duty, Facts, Placement, EntryRules, Slot

TODAY = date(2026, 11, 27)
DUTY = Duty("d-1", "pos-1", "Menyusun laporan", "laporan", norma_waktu=30)
FACTS = Facts(duty=DUTY, placements=(Placement("pos-1", date(2026, 1, 1), None),))


def draft(start, end, volume=2, day=TODAY):
    return Draft(day, time(*start), time(*end), "d-1", volume, "Laporan")


# -- batches ----------------------------------------------------------------------------------

def test_batch_items_are_checked_against_each_other_in_order():
    items = [draft((8, 0), (10, 0)), draft((9, 0), (11, 0)), draft((11, 0), (12, 0))]
    results = domain.assess_batch(items, [FACTS] * 3, TODAY)
    assert [set(r.errors) for r in results] == [set(), {"start_time"}, set()]
    assert "08:00" in results[1].errors["start_time"].en


def test_batch_daily_ceiling_counts_earlier_items_and_stored_entries():
    stored = Facts(duty=DUTY, placements=FACTS.placements, others=(Slot(time(6), time(7), 60),))
    items = [draft((7, 0), (11, 0), volume=8), draft((11, 0), (14, 0), volume=6), draft((14, 0), (14, 30), volume=1)]
    results = domain.assess_batch(items, [stored] * 3, TODAY)  # 60 + 240 + 180 = 480 > 450 at item 1
    assert [set(r.errors) for r in results] == [set(), {"credited_minutes"}, {"credited_minutes"}]


def test_batch_items_on_other_days_do_not_clash():
    items = [draft((8, 0), (10, 0)), draft((8, 0), (10, 0), day=TODAY - timedelta(days=1))]
    assert all(r.valid for r in domain.assess_batch(items, [FACTS] * 2, TODAY))


def test_batch_item_with_bad_times_does_not_claim_a_slot():
    items = [draft((10, 0), (9, 0)), draft((9, 0), (10, 0))]
    results = domain.assess_batch(items, [FACTS] * 2, TODAY)
    assert set(results[0].errors) == {"end_time"} and results[1].valid


# -- states and versions ----------------------------------------------------------------------

@pytest.mark.parametrize("status", domain.EDITABLE)
def test_undecided_entries_are_editable(status):
    domain.check_editable(status)


@pytest.mark.parametrize("status", ["approved", "rejected", "overturned"])
def test_decided_entries_are_immutable(status):
    with pytest.raises(Conflict) as exc:
        domain.check_editable(status)
    assert exc.value.code == "not_editable"


def test_what_can_be_submitted_and_deleted():
    for status in ("draft", "returned", "withdrawn"):
        domain.check_submittable(status)
    for status in ("submitted", "approved", "rejected"):
        with pytest.raises(Conflict):
            domain.check_submittable(status)
    domain.check_deletable("draft")
    for status in ("submitted", "withdrawn", "returned"):
        with pytest.raises(Conflict):
            domain.check_deletable(status)


def test_a_change_of_a_pending_entry_outranks_a_return_approval_may_have_made():
    # Submitted at v3; approval may already have decided it as v4; the change goes out as v5.
    assert domain.next_change_version(3, "submitted") == 5
    assert domain.next_change_version(4, "returned") == 5
    assert domain.next_change_version(1, "draft") == 2
    assert domain.next_change_version(5, "withdrawn") == 6


S = domain.Settlement


@pytest.mark.parametrize("decided, version, judged, status, stored, submitted, expected", [
    # the plain case: the decision on the latest announcement
    ("approved", 2, 1, "submitted", 0, 1, S(True)),
    ("returned", 2, 1, "submitted", 0, 1, S(True, release_through=1)),
    # a redelivered or late, older decision changes nothing
    ("approved", 2, 1, "approved", 2, 1, S(False, release_through=1)),
    ("returned", 4, 3, "submitted", 6, 5, S(False, release_through=3)),
    # approval decided v1 before the employee's edit (v3) reached it: a final decision stands and
    # v1's content comes back; a return yields to the edit (approval re-queues v3)
    ("approved", 2, 1, "submitted", 0, 3, S(True, restore=1, superseded="edit")),
    ("rejected", 2, 1, "submitted", 0, 3, S(True, restore=1, superseded="edit")),
    ("returned", 2, 1, "submitted", 0, 3, S(False, release_through=1)),
    # ... or before the withdrawal reached it
    ("approved", 2, 1, "withdrawn", 0, 1, S(True, restore=1, superseded="withdraw")),
    ("returned", 2, 1, "withdrawn", 0, 1, S(False, release_through=1)),
    # the decision on the resubmission, and an overturn of a rejection
    ("approved", 6, 5, "submitted", 4, 5, S(True)),
    ("overturned", 3, 1, "rejected", 2, 1, S(True)),
    ("overturned", 3, 1, "submitted", 0, 1, S(True)),  # the overturn overtook the rejection
])
def test_settle_a_decision_against_the_entry_as_held(decided, version, judged, status, stored, submitted, expected):
    assert domain.settle(decided, version, judged, status=status, decision_version=stored,
                         submitted_version=submitted) == expected


@pytest.mark.parametrize("status, submitted", [("draft", 0), ("submitted", 1)])
def test_a_decision_on_something_never_announced_is_damage(status, submitted):
    with pytest.raises(domain.DecisionDamage):
        domain.settle("approved", 4, 3, status=status, decision_version=0, submitted_version=submitted)



def test_revision_deadline_extends_the_window_for_a_returned_entry():
    old = Draft(TODAY - timedelta(days=9), time(8), time(9), "d-1", 1, "x")
    assert set(domain.assess(old, FACTS, TODAY).errors) == {"date"}
    extended = Facts(duty=DUTY, placements=FACTS.placements, revision_deadline=TODAY)
    assert domain.assess(old, extended, TODAY).valid
    lapsed = Facts(duty=DUTY, placements=FACTS.placements, revision_deadline=TODAY - timedelta(days=1))
    assert set(domain.assess(old, lapsed, TODAY).errors) == {"date"}


def test_policy_reads_the_new_settings():
    p = EntryRules.from_settings({"ACTIVITY_REVISION_WINDOW_DAYS": "7", "ACTIVITY_EVIDENCE_MAX_BYTES": "1000",
                              "ACTIVITY_EVIDENCE_MAX_FILES": "2"})
    assert (p.revision_window_days, p.evidence_max_bytes, p.evidence_max_files) == (7, 1000, 2)
    assert EntryRules().evidence_max_bytes == 5 * 1024 * 1024


# -- month figures ----------------------------------------------------------------------------

def test_productivity_is_capped_and_exact():
    assert domain.productivity_pct(5670, 6300) == Decimal("90.00")
    assert domain.productivity_pct(7000, 6300) == Decimal("100.00")
    assert domain.productivity_pct(1, 3) == Decimal("33.33")
    assert domain.productivity_pct(2, 3) == Decimal("66.67")
    assert domain.productivity_pct(10, 0) is None


def test_discipline_never_below_zero():
    assert domain.discipline_pct(Decimal("3")) == Decimal("97.00")
    assert domain.discipline_pct(Decimal("0")) == Decimal("100.00")
    assert domain.discipline_pct(Decimal("104.5")) == Decimal("0.00")


# -- evidence files ---------------------------------------------------------------------------

PDF, PNG, JPEG = b"%PDF-1.7\n...", b"\x89PNG\r\n\x1a\n" + b"\0" * 20, b"\xff\xd8\xff\xe0" + b"\0" * 20


@pytest.mark.parametrize("name, data, expected", [
    ("surat.pdf", PDF, "application/pdf"), ("FOTO.PNG", PNG, "image/png"),
    ("foto.jpg", JPEG, "image/jpeg"), ("foto.jpeg", JPEG, "image/jpeg"),
])
def test_accepted_types_by_content(name, data, expected):
    assert evidence.check_upload(name, data, 1000) == expected


@pytest.mark.parametrize("name, data", [
    ("virus.pdf", b"MZ\x90\x00 not a pdf"),            # the extension lies
    ("gambar.gif", b"GIF89a......"),                   # a type not allowed
    ("foto.pdf", PNG),                                 # a real PNG named .pdf
    ("laporan", PDF),                                  # no extension to check against
    ("laporan.docx", b"PK\x03\x04....."),
])
def test_refused_types(name, data):
    with pytest.raises(ValidationFailed) as exc:
        evidence.check_upload(name, data, 1000)
    assert set(exc.value.fields) == {"file"} and exc.value.fields["file"].id


def test_size_limit_and_empty():
    assert evidence.check_upload("a.pdf", PDF + b"x" * (100 - len(PDF)), 100)
    with pytest.raises(DomainError) as exc:
        evidence.check_upload("a.pdf", PDF + b"x" * 100, 100)
    assert exc.value.status == 413 and exc.value.code == "evidence_too_large"
    with pytest.raises(ValidationFailed):
        evidence.check_upload("a.pdf", b"", 100)


def test_display_name_is_harmless():
    assert evidence.display_name("../../etc/pass wd\r\n\".pdf") == "pass wd_.pdf"
    assert evidence.display_name("C:\\Users\\x\\bukti.pdf") == "bukti.pdf"
    assert evidence.display_name("") == "bukti"


def test_store_names_files_randomly_and_round_trips(tmp_path):
    store = evidence.EvidenceStore(str(tmp_path))
    a, b = store.save(PDF), store.save(PDF)
    assert a.id != b.id and len(a.id) == 32 and a.size == len(PDF)
    with store.open(a.id) as f:
        assert f.read() == PDF
    store.delete(a.id)
    with pytest.raises(FileNotFoundError):
        store.open(a.id)
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")
