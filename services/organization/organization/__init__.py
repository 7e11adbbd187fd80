"""Bagian Organisasi's service: the unit tree, positions (jabatan) and their duties."""
