"""BPKAD's service: the yearly TPP policy and the monthly TPP runs (gross, PPh 21, BPJS, net)."""
