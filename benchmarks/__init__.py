"""pjsim benchmarks: speed, memory and the lecture reproductions (run with `make bench`)."""
