"""Load generator and the bare python-socketio baseline (see README.md, Benchmarks)."""
