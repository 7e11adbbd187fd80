"""BKD's identity service: personnel records (employees and their placements), accounts, roles,
login and the signing keys of the access tokens every other service verifies."""
