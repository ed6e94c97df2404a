"""Realism benchmark: real IXI T1s vs synthetic twins (see README.md)."""
