#!/usr/bin/python3
"""Reference vectors for huber, in the case format of conformance/FORMAT.md: the cases,
formulas and checks of make_smooth_l1.py (see there), with delta in place of beta.

Run:  /usr/bin/python3 conformance/make_huber.py
"""
from make_smooth_l1 import HUBER, generate

if __name__ == "__main__":
    generate(HUBER)
