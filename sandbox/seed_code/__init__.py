"""THE ORIGINAL DESIGN, not ours: the hand-made deployment's two functions, ported to Python 3
with their original names, for ``make demo ARGS="--cutover"`` (``sandbox/seed_deployment.py``).
Each file is deployed as the function's ``lambda_function.py``."""
