"""The Python suite's `tests`: at least 48 rows carry them, each prompt states the function it asks for, every row's
tests pass on a reference solution and fail on a trivially wrong one (run in the sandbox), and no suite prompt or
function name appears among the shipped training prompts."""

from __future__ import annotations

import re

import pytest
from trl_sft_plus.evals.suite import load_suites

from trl_sft_plus.data_loading import load_rows
from trl_sft_plus.validation.sandbox import run_many

ROWS = [row for row in load_suites(["python"]) if row.tests]
SIGNATURE = re.compile(r"`((\w+)\(([^)]*)\))`")

REFERENCE = {
    "python-snake-movement": """
def snake_move(head, direction):
    dx, dy = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[direction]
    return (head[0] + dx, head[1] + dy)
""",
    "python-reverse-string": "def reverse_string(text):\n    return text[::-1]",
    "python-is-palindrome": "def is_palindrome(word):\n    return word.lower() == word.lower()[::-1]",
    "python-fizzbuzz": """
def fizzbuzz(n):
    return ["FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else str(i)
            for i in range(1, n + 1)]
""",
    "python-factorial": "def factorial(n):\n    return 1 if n < 2 else n * factorial(n - 1)",
    "python-fibonacci": """
def first_fibonacci(n):
    numbers, a, b = [], 0, 1
    for _ in range(n):
        numbers.append(a)
        a, b = b, a + b
    return numbers
""",
    "python-count-vowels": "def count_vowels(text):\n    return sum(c in 'aeiou' for c in text.lower())",
    "python-flatten-list": """
def flatten_list(nested):
    flat = []
    for item in nested:
        flat.extend(flatten_list(item) if isinstance(item, list) else [item])
    return flat
""",
    "python-celsius": "def celsius_to_fahrenheit(celsius):\n    return celsius * 9 / 5 + 32",
    "python-is-prime": "def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))",
    "python-word-count": """
def word_counts(text):
    counts = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts
""",
    "python-max-of-list": """
def largest_number(numbers):
    best = numbers[0]
    for n in numbers:
        if n > best:
            best = n
    return best
""",
    "python-merge-dicts": "def merge_dicts(first, second):\n    return {**first, **second}",
    "python-rotate-list": """
def rotate_list(items, k):
    if not items:
        return []
    k %= len(items)
    return items[-k:] + items[:-k] if k else list(items)
""",
    "python-binary-search": """
def binary_search(items, target):
    low, high = 0, len(items) - 1
    while low <= high:
        mid = (low + high) // 2
        if items[mid] == target:
            return mid
        if items[mid] < target:
            low = mid + 1
        else:
            high = mid - 1
    return -1
""",
    "python-bubble-sort": """
def bubble_sort(numbers):
    items = list(numbers)
    for end in range(len(items) - 1, 0, -1):
        for i in range(end):
            if items[i] > items[i + 1]:
                items[i], items[i + 1] = items[i + 1], items[i]
    return items
""",
    "python-gcd": """
def greatest_common_divisor(a, b):
    while b:
        a, b = b, a % b
    return a
""",
    "python-tic-tac-toe-winner": """
def tic_tac_toe_winner(board):
    lines = [list(row) for row in board] + [list(col) for col in zip(*board)]
    lines += [[board[i][i] for i in range(3)], [board[i][2 - i] for i in range(3)]]
    for line in lines:
        if line[0] in "XO" and line.count(line[0]) == 3:
            return line[0]
    return None
""",
    "python-dice-roll": "import random\n\ndef roll_two_dice():\n    return (random.randint(1, 6), random.randint(1, 6))",
    "python-stack-class": """
class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        return self.items.pop()

    def is_empty(self):
        return not self.items
""",
    "python-second-largest": "def second_largest(numbers):\n    return sorted(set(numbers))[-2]",
    "python-chunk-list": "def chunk_list(items, n):\n    return [items[i:i + n] for i in range(0, len(items), n)]",
    "python-caesar-cipher": """
def caesar_cipher(text, shift):
    out = []
    for c in text:
        if c.isalpha():
            base = ord("A") if c.isupper() else ord("a")
            c = chr((ord(c) - base + shift) % 26 + base)
        out.append(c)
    return "".join(out)
""",
    "python-snake-collision": """
def hits_wall(head, width, height):
    x, y = head
    return not (0 <= x < width and 0 <= y < height)
""",
    "python-grid-neighbours": """
def grid_neighbours(row, col, rows, cols):
    cells = [(row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)]
    return [(r, c) for r, c in cells if 0 <= r < rows and 0 <= c < cols]
""",
    "python-anagram": """
def are_anagrams(first, second):
    norm = lambda s: sorted(s.replace(" ", "").lower())
    return norm(first) == norm(second)
""",
    "python-nl-sum-even": "def sum_even(numbers):\n    return sum(n for n in numbers if n % 2 == 0)",
    "python-nl-capitalize": "def capitalize_words(sentence):\n    return ' '.join(w[:1].upper() + w[1:] for w in sentence.split(' '))",
    "python-nl-seconds": "def split_seconds(seconds):\n    return (seconds // 3600, seconds % 3600 // 60, seconds % 60)",
    "python-nl-matrix-transpose": "def transpose_matrix(matrix):\n    return [list(col) for col in zip(*matrix)]",
    "python-nl-email-check": """
def looks_like_email(text):
    if text.count("@") != 1:
        return False
    name, domain = text.split("@")
    return bool(name) and "." in domain.strip(".")
""",
    "python-nl-clamp": "def clamp(value, low, high):\n    return min(max(value, low), high)",
    "python-count-long-words": "def count_long_words(text, length):\n    return sum(len(w) > length for w in text.split())",
    "python-remove-duplicates": "def remove_duplicates(items):\n    return list(dict.fromkeys(items))",
    "python-running-total": """
def running_total(numbers):
    totals, total = [], 0
    for n in numbers:
        total += n
        totals.append(total)
    return totals
""",
    "python-digit-sum": "def digit_sum(n):\n    return sum(int(d) for d in str(n))",
    "python-most-common-char": "def most_common_char(text):\n    return max(text, key=text.count)",
    "python-snake-grow": """
def grow_snake(body, direction):
    dx, dy = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[direction]
    x, y = body[0]
    return [(x + dx, y + dy)] + list(body)
""",
    "python-manhattan": "def manhattan_distance(a, b):\n    return abs(a[0] - b[0]) + abs(a[1] - b[1])",
    "python-leap-year": "def is_leap_year(year):\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)",
    "python-roman-numerals": """
def to_roman(number):
    values = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
              (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, letters in values:
        while number >= value:
            out += letters
            number -= value
    return out
""",
    "python-remove-vowels": "def remove_vowels(text):\n    return ''.join(c for c in text if c.lower() not in 'aeiou')",
    "python-average": "def average(numbers):\n    return sum(numbers) / len(numbers) if numbers else 0",
    "python-pair-with-sum": """
def pair_with_sum(numbers, target):
    seen = set()
    for n in numbers:
        if target - n in seen:
            return True
        seen.add(n)
    return False
""",
    "python-longest-word": "def longest_word(sentence):\n    return max(sentence.split(), key=len)",
    "python-diagonal-sum": "def diagonal_sum(matrix):\n    return sum(matrix[i][i] for i in range(len(matrix)))",
    "python-queue-class": """
class FifoQueue:
    def __init__(self):
        self.items = []

    def enqueue(self, item):
        self.items.append(item)

    def dequeue(self):
        return self.items.pop(0)

    def size(self):
        return len(self.items)
""",
    "python-bank-account": """
class BankAccount:
    def __init__(self, balance=0):
        self.balance = balance

    def deposit(self, amount):
        self.balance += amount

    def withdraw(self, amount):
        if amount > self.balance:
            raise ValueError("insufficient funds")
        self.balance -= amount
""",
}


def _signature(row):
    match = SIGNATURE.search(row.prompt)
    assert match, f"{row.id}: the prompt does not state the function and its arguments: {row.prompt!r}"
    return match.group(2), [a.split("=")[0].strip() for a in match.group(3).split(",") if a.strip()]


def _wrong(name: str) -> str:
    """A trivially wrong answer with the asked-for name: a function returning None, or a class doing nothing."""
    if name[0].isupper():
        return f"class {name}:\n    def __init__(self, *args, **kwargs):\n        pass\n\n    def __getattr__(self, attr):\n        return lambda *args, **kwargs: None"
    return f"def {name}(*args, **kwargs):\n    return None"


def test_at_least_48_rows_carry_tests_and_state_their_signature():
    assert len(ROWS) >= 48
    names = [_signature(row)[0] for row in ROWS]
    assert len(set(names)) == len(names)
    for row in ROWS:
        name, _ = _signature(row)
        assert any(re.search(rf"\b{name}\(", test) for test in row.tests), row.id
    snake = next(row for row in ROWS if row.id == "python-snake-movement")
    assert _signature(snake) == ("snake_move", ["head", "direction"])


def test_every_row_passes_on_its_reference_and_fails_on_a_wrong_answer():
    assert sorted(REFERENCE) == sorted(row.id for row in ROWS)
    jobs = [(REFERENCE[row.id], row.tests) for row in ROWS]
    jobs += [(_wrong(_signature(row)[0]), row.tests) for row in ROWS]
    results = run_many(jobs)
    reference, wrong = results[: len(ROWS)], results[len(ROWS) :]
    failures = {row.id: r.errors for row, r in zip(ROWS, reference, strict=True) if not all(r.passed)}
    assert failures == {}
    assert [row.id for row, r in zip(ROWS, wrong, strict=True) if all(r.passed)] == []


@pytest.fixture(scope="module")
def training_prompts():
    prompts = []
    for name in ("chat", "haiku", "python-stdlib", "python-functions"):
        for row in load_rows(name):
            prompts.extend(m["content"] for m in row["messages"] if m["role"] == "user")
    return prompts


def test_no_overlap_with_training_prompts(training_prompts):
    assert len(training_prompts) > 5000
    lowered = {p.strip().lower() for p in training_prompts}
    assert [row.id for row in ROWS if row.prompt.strip().lower() in lowered] == []
    text = "\n".join(training_prompts)
    used = [name for name in (_signature(row)[0] for row in ROWS) if re.search(rf"\b{name}\b", text)]
    assert used == []
