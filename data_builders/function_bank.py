"""The tasks of the shipped `python-functions` rows: what each function does, its reference solution and its tests.

Written for this project (Apache-2.0). `build_functions.parse_bank` reads the format:

- `== category` starts a category;
- `@ name(args) | does` starts a function task (`@@ Name(args) | does` a class), `does` being the clause that follows
  "that" in the prompt ("returns ...", "checks ...");
- then the solution: a function body written from column 0 (its `import` lines go above the `def`), or full code
  when it has a top-level `def` or `class`;
- then `? test` lines: an expression the test asserts, or statements separated by ` ;; ` that assert themselves.

None of these tasks shares a name or a behaviour with the evaluation suite `evals/suites/python.jsonl` (no reversed
strings, palindromes, fizzbuzz, factorials, Fibonacci numbers, primes, vowels, flattening, temperature conversion,
word counts, maxima, merged dicts, rotations, binary search, sorting algorithms, common divisors, snake or
tic-tac-toe moves, dice, stacks, queues, bank accounts, chunks, ciphers, grid bounds or neighbours, anagrams,
even sums, title case, seconds to clock parts, transposes, email checks, clamping, long words, duplicates removal,
running totals, digit sums, most common characters, Manhattan distances, leap years, Roman numerals, means, pair
sums, longest words, capitalised words or diagonal sums); the builder checks names and prompts.

The bank itself is data, in `function_bank.txt` beside this file.
"""

from pathlib import Path

BANK = (Path(__file__).parent / "function_bank.txt").read_text(encoding="utf-8")
