"""The model: everything that changes results, and nothing else.

The world and its daily schedule (`world`), the actors (`gangs`, `security_forces`, `mission`,
`population`), the rules of engagement (`combat`), the map (`geography`), the compiled loops and
random streams (`jit`), the parameter table (`parameters`), scenario files (`scenario`) and what a
run records (`outcomes`). No I/O beyond reading the shipped data, no user interface; the
fingerprint that guards resumed batches covers exactly this package and `sim.data`.
"""
