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
"""

BANK = r"""
== strings
@ count_char(text, char) | returns how many times the character char occurs in text
return text.count(char)
? count_char('banana', 'a') == 3
? count_char('', 'x') == 0
? count_char('Aa', 'a') == 1

@ count_words(sentence) | returns the number of whitespace-separated words in a sentence
return len(sentence.split())
? count_words('one two  three') == 3
? count_words('') == 0
? count_words('  hi ') == 1

@ is_shouting(message) | checks whether a message has at least one letter and no lower-case letters
return message.isupper()
? is_shouting('HEY THERE!') is True
? is_shouting('Hey') is False
? is_shouting('123') is False

@ initials(full_name) | returns the upper-case initials of a name, so "ada lovelace" gives "AL"
return "".join(word[0].upper() for word in full_name.split())
? initials('ada lovelace') == 'AL'
? initials('Grace Brewster Hopper') == 'GBH'
? initials('') == ''

@ repeat_chars(text, times) | repeats every character of text times times in a row
return "".join(char * times for char in text)
? repeat_chars('ab', 3) == 'aaabbb'
? repeat_chars('', 2) == ''
? repeat_chars('xyz', 1) == 'xyz'

@ invert_case(text) | turns upper-case letters into lower case and lower-case letters into upper case
return text.swapcase()
? invert_case('Hello World') == 'hELLO wORLD'
? invert_case('123abc') == '123ABC'

@ count_uppercase(text) | counts the upper-case letters in a string
return sum(char.isupper() for char in text)
? count_uppercase('Hello World') == 2
? count_uppercase('abc') == 0
? count_uppercase('ABC def G') == 4

@ strip_punctuation(text) | removes every punctuation character (those in string.punctuation) from a string
import string
return "".join(char for char in text if char not in string.punctuation)
? strip_punctuation('Hi, there!') == 'Hi there'
? strip_punctuation("it's (fine).") == 'its fine'
? strip_punctuation('plain') == 'plain'

@ words_starting_with(text, letter) | returns the words of text that start with letter, ignoring case, in order
return [word for word in text.split() if word.lower().startswith(letter.lower())]
? words_starting_with('Apples and avocados are tasty', 'a') == ['Apples', 'and', 'avocados', 'are']
? words_starting_with('one two', 'z') == []

@ truncate_text(text, limit) | shortens text to at most limit characters, ending it with "..." when it had to be cut
return text if len(text) <= limit else text[: limit - 3] + "..."
? truncate_text('hello world', 8) == 'hello...'
? truncate_text('hi', 5) == 'hi'
? truncate_text('abcdef', 6) == 'abcdef'

@ pad_left(text, width, fill) | pads text on the left with the character fill until it is width characters long
return text.rjust(width, fill)
? pad_left('7', 3, '0') == '007'
? pad_left('1234', 2, '0') == '1234'
? pad_left('ab', 4, '*') == '**ab'

@ snake_to_camel(name) | converts a snake_case identifier to camelCase
first, *rest = name.split("_")
return first + "".join(part.capitalize() for part in rest)
? snake_to_camel('user_id') == 'userId'
? snake_to_camel('get_http_code') == 'getHttpCode'
? snake_to_camel('x') == 'x'

@ camel_to_snake(identifier) | converts a camelCase identifier to snake_case
return "".join("_" + char.lower() if char.isupper() else char for char in identifier)
? camel_to_snake('userId') == 'user_id'
? camel_to_snake('parseJsonFile') == 'parse_json_file'
? camel_to_snake('abc') == 'abc'

@ kebab_case(title) | lower-cases a title and joins its words with hyphens
return "-".join(title.lower().split())
? kebab_case('Hello Big World') == 'hello-big-world'
? kebab_case('  one ') == 'one'
? kebab_case('') == ''

@ count_overlapping(text, part) | counts the occurrences of part in text, overlapping ones included
return sum(text.startswith(part, i) for i in range(len(text)))
? count_overlapping('aaaa', 'aa') == 3
? count_overlapping('abcabc', 'abc') == 2
? count_overlapping('abc', 'd') == 0

@ char_positions(text, char) | returns the list of indexes at which char occurs in text
return [i for i, c in enumerate(text) if c == char]
? char_positions('banana', 'a') == [1, 3, 5]
? char_positions('xyz', 'a') == []

@ first_repeated_char(text) | returns the first character that appears for a second time while reading text, or None
seen = set()
for char in text:
    if char in seen:
        return char
    seen.add(char)
return None
? first_repeated_char('abcab') == 'a'
? first_repeated_char('abba') == 'b'
? first_repeated_char('abc') is None

@ first_unique_char(text) | returns the first character that occurs exactly once in text, or None
from collections import Counter
counts = Counter(text)
return next((char for char in text if counts[char] == 1), None)
? first_unique_char('swiss') == 'w'
? first_unique_char('aabb') is None
? first_unique_char('z') == 'z'

@ is_pangram(sentence) | checks whether a sentence uses every letter from a to z at least once, ignoring case
import string
return set(string.ascii_lowercase) <= set(sentence.lower())
? is_pangram('The quick brown fox jumps over the lazy dog') is True
? is_pangram('Hello world') is False

@ run_length_encode(text) | compresses runs of equal characters, so "aaab" becomes "a3b1"
from itertools import groupby
return "".join(f"{char}{len(list(group))}" for char, group in groupby(text))
? run_length_encode('aaab') == 'a3b1'
? run_length_encode('abc') == 'a1b1c1'
? run_length_encode('') == ''

@ run_length_decode(encoded) | expands a run-length code such as "a3b1" back into "aaab" (counts may have several digits)
import re
return "".join(char * int(count) for char, count in re.findall(r"(\D)(\d+)", encoded))
? run_length_decode('a3b1') == 'aaab'
? run_length_decode('x12') == 'x' * 12
? run_length_decode('') == ''

@ alternate_case(text) | upper-cases the characters at even indexes and lower-cases those at odd indexes
return "".join(c.upper() if i % 2 == 0 else c.lower() for i, c in enumerate(text))
? alternate_case('hello') == 'HeLlO'
? alternate_case('ABCD') == 'AbCd'
? alternate_case('') == ''

@ longest_common_prefix(strings) | returns the longest prefix that all strings in a list share, or "" for an empty list
if not strings:
    return ""
prefix = strings[0]
for item in strings[1:]:
    while not item.startswith(prefix):
        prefix = prefix[:-1]
return prefix
? longest_common_prefix(['flower', 'flow', 'flight']) == 'fl'
? longest_common_prefix(['dog', 'car']) == ''
? longest_common_prefix([]) == ''
? longest_common_prefix(['same', 'same']) == 'same'

@ is_rotation(first, second) | checks whether second is first rotated, like "abcd" and "cdab"
return len(first) == len(second) and second in first + first
? is_rotation('abcd', 'cdab') is True
? is_rotation('abcd', 'acbd') is False
? is_rotation('abc', 'abcabc') is False

@ count_nonblank_lines(text) | counts the lines of text that contain something other than whitespace
return sum(1 for line in text.splitlines() if line.strip())
? count_nonblank_lines('a\n\n b\n   \n') == 2
? count_nonblank_lines('') == 0

@ mask_card(number) | hides all but the last four characters of a card number string behind "*"
return "*" * (len(number) - 4) + number[-4:]
? mask_card('1234567890') == '******7890'
? mask_card('123') == '123'
? mask_card('abcd') == 'abcd'

@ is_digits(text) | checks whether text is a non-empty string of the digits 0-9 only
return len(text) > 0 and all("0" <= char <= "9" for char in text)
? is_digits('0123') is True
? is_digits('') is False
? is_digits('12a') is False
? is_digits('-5') is False

@ wrap_words(text, width) | splits text into lines of at most width characters, breaking only at spaces, and returns the lines as a list
import textwrap
return textwrap.wrap(text, width)
? wrap_words('the cat sat on the mat', 7) == ['the cat', 'sat on', 'the mat']
? wrap_words('', 5) == []

@ remove_whitespace(text) | removes every space, tab and newline from a string
return "".join(text.split())
? remove_whitespace(' a b\tc\nd ') == 'abcd'
? remove_whitespace('') == ''

@ squeeze_spaces(text) | collapses every run of whitespace into one space and trims both ends
return " ".join(text.split())
? squeeze_spaces('  too   many    spaces ') == 'too many spaces'
? squeeze_spaces('a\n\nb') == 'a b'

@ repeated_chars(text) | returns, sorted, the characters that occur more than once in text
return sorted(char for char in set(text) if text.count(char) > 1)
? repeated_chars('programming') == ['g', 'm', 'r']
? repeated_chars('abc') == []

@ shared_letters(first, second) | returns the sorted list of distinct characters that two strings both contain
return sorted(set(first) & set(second))
? shared_letters('apple', 'grape') == ['a', 'e', 'p']
? shared_letters('abc', 'xyz') == []

@ acronym(phrase) | builds an upper-case acronym from the first letter of each word, treating hyphens as spaces
return "".join(word[0].upper() for word in phrase.replace("-", " ").split())
? acronym('portable network graphics') == 'PNG'
? acronym('Complementary metal-oxide semiconductor') == 'CMOS'

@ count_sentences(text) | counts the sentences in text, a sentence ending with one or more of ".", "!" or "?"
import re
return len(re.findall(r"[.!?]+", text))
? count_sentences('Hi! How are you? Fine.') == 3
? count_sentences('Wait... what?!') == 2
? count_sentences('no end') == 0

@ pig_latin(word) | translates a lower-case word to pig latin: leading consonants move to the end followed by "ay", and a word that starts with a vowel gets "way"
for i, char in enumerate(word):
    if char in "aeiou":
        return word[i:] + word[:i] + "ay" if i else word + "way"
return word + "ay"
? pig_latin('pig') == 'igpay'
? pig_latin('string') == 'ingstray'
? pig_latin('apple') == 'appleway'

@ is_isogram(word) | checks that every letter of a word differs from all the others, upper and lower case counting as the same letter
lowered = word.lower()
return len(set(lowered)) == len(lowered)
? is_isogram('lumberjack') is True
? is_isogram('Alpha') is False
? is_isogram('') is True

@ nth_word(sentence, n) | returns the n-th word of a sentence, counting from 1, or None when there is no such word
words = sentence.split()
return words[n - 1] if 1 <= n <= len(words) else None
? nth_word('the quick brown fox', 2) == 'quick'
? nth_word('one', 2) is None
? nth_word('a b', 0) is None

@ replace_digits(text, mark) | replaces every digit in text with mark
return "".join(mark if char.isdigit() else char for char in text)
? replace_digits('call 555-1234', '#') == 'call ###-####'
? replace_digits('none', '#') == 'none'

@ extract_integers(text) | returns the integers written in a text, minus signs included, in order
import re
return [int(found) for found in re.findall(r"-?\d+", text)]
? extract_integers('a1b-22c333') == [1, -22, 333]
? extract_integers('no numbers') == []

@ hamming_distance(first, second) | counts the positions at which two strings of equal length differ
return sum(a != b for a, b in zip(first, second))
? hamming_distance('karolin', 'kathrin') == 3
? hamming_distance('abc', 'abc') == 0

@ is_subsequence(small, big) | checks whether the characters of small appear in big in the same order, not necessarily next to each other
remaining = iter(big)
return all(char in remaining for char in small)
? is_subsequence('ace', 'abcde') is True
? is_subsequence('aec', 'abcde') is False
? is_subsequence('', 'x') is True

@ interleave_strings(first, second) | interleaves the characters of two strings and appends what is left of the longer one
from itertools import zip_longest
return "".join(a + b for a, b in zip_longest(first, second, fillvalue=""))
? interleave_strings('abc', '12') == 'a1b2c'
? interleave_strings('', 'xy') == 'xy'

@ slugify(title) | lower-cases a title, drops every character that is not a letter, digit or space, and joins the words with hyphens
import re
return "-".join(re.sub(r"[^a-z0-9 ]", "", title.lower()).split())
? slugify('Hello, World!') == 'hello-world'
? slugify('  Python 3 Tips ') == 'python-3-tips'

@ digit_count(text) | counts the digit characters in a string
return sum(char.isdigit() for char in text)
? digit_count('a1b22c') == 3
? digit_count('none') == 0

@ char_codes(text) | returns the list of Unicode code points of the characters of text
return [ord(char) for char in text]
? char_codes('AB') == [65, 66]
? char_codes('') == []

@ from_char_codes(codes) | builds the string whose characters have the given list of Unicode code points
return "".join(map(chr, codes))
? from_char_codes([104, 105]) == 'hi'
? from_char_codes([]) == ''

@ ends_with_any(filename, suffixes) | checks whether filename ends with one of the suffixes in a list
return filename.endswith(tuple(suffixes))
? ends_with_any('photo.jpg', ['.png', '.jpg']) is True
? ends_with_any('notes.txt', ['.md']) is False
? ends_with_any('x', []) is False

@ censor_word(text, word) | replaces every whole-word occurrence of word in text with as many asterisks as it has letters
import re
return re.sub(rf"\b{re.escape(word)}\b", "*" * len(word), text)
? censor_word('the bad cat is bad', 'bad') == 'the *** cat is ***'
? censor_word('badge', 'bad') == 'badge'

@ has_double_letter(word) | checks whether a word has the same character twice in a row
return any(a == b for a, b in zip(word, word[1:]))
? has_double_letter('book') is True
? has_double_letter('word') is False
? has_double_letter('') is False

@ format_phone(digits) | formats a string of ten digits as a phone number like "(123) 456-7890"
return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
? format_phone('1234567890') == '(123) 456-7890'
? format_phone('5550001111') == '(555) 000-1111'

@ char_kinds(text) | returns a dict counting the 'letters', 'digits' and 'other' characters of text
letters = sum(char.isalpha() for char in text)
digits = sum(char.isdigit() for char in text)
return {"letters": letters, "digits": digits, "other": len(text) - letters - digits}
? char_kinds('ab1 !') == {'letters': 2, 'digits': 1, 'other': 2}
? char_kinds('') == {'letters': 0, 'digits': 0, 'other': 0}

@ center_text(text, width) | centres text in a field of width characters padded with spaces, any odd space going to the right
return text.center(width) if (width - len(text)) % 2 == 0 else text.center(width - 1) + " "
? center_text('ab', 6) == '  ab  '
? center_text('ab', 5) == ' ab  '
? center_text('long', 2) == 'long'

@ join_with_and(items) | joins a list of strings as English, like "a, b and c"
if len(items) <= 1:
    return "".join(items)
return ", ".join(items[:-1]) + " and " + items[-1]
? join_with_and(['a', 'b', 'c']) == 'a, b and c'
? join_with_and(['tea', 'cake']) == 'tea and cake'
? join_with_and(['x']) == 'x'
? join_with_and([]) == ''

@ ordinal(n) | returns a positive integer with its English ordinal suffix, such as "1st", "12th" or "23rd"
if 10 <= n % 100 <= 20:
    return f"{n}th"
return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
? ordinal(1) == '1st'
? ordinal(12) == '12th'
? ordinal(23) == '23rd'
? ordinal(111) == '111th'

@ pluralize(count, noun) | returns the count and the noun, adding "s" to the noun unless the count is 1, like "3 cats"
return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
? pluralize(1, 'cat') == '1 cat'
? pluralize(3, 'dog') == '3 dogs'
? pluralize(0, 'apple') == '0 apples'

== lists
@ product_of(numbers) | multiplies all the numbers of a list together, giving 1 for an empty list
import math
return math.prod(numbers)
? product_of([2, 3, 4]) == 24
? product_of([]) == 1
? product_of([5, -1]) == -5

@ count_negatives(numbers) | counts the negative numbers in a list
return sum(1 for n in numbers if n < 0)
? count_negatives([-1, 2, -3, 0]) == 2
? count_negatives([]) == 0

@ index_of_smallest(values) | returns the index of the smallest value in a non-empty list, the first one on a tie
return min(range(len(values)), key=values.__getitem__)
? index_of_smallest([4, 1, 3, 1]) == 1
? index_of_smallest([7]) == 0
? index_of_smallest([2, 5, -9]) == 2

@ last_index(items, value) | returns the index of the last occurrence of value in a list, or -1 when it is absent
for i in range(len(items) - 1, -1, -1):
    if items[i] == value:
        return i
return -1
? last_index([1, 2, 1, 3], 1) == 2
? last_index([1, 2], 5) == -1
? last_index([], 0) == -1

@ differences(numbers) | returns the difference between each number of a list and the one before it
return [b - a for a, b in zip(numbers, numbers[1:])]
? differences([1, 4, 9, 16]) == [3, 5, 7]
? differences([5]) == []
? differences([3, 1]) == [-2]

@ is_non_decreasing(numbers) | checks whether every number in a list is at least as large as the one before it
return all(a <= b for a, b in zip(numbers, numbers[1:]))
? is_non_decreasing([1, 2, 2, 5]) is True
? is_non_decreasing([3, 1]) is False
? is_non_decreasing([]) is True

@ split_even_odd(numbers) | returns a tuple of two lists: the even numbers of a list and the odd ones, each in order
evens = [n for n in numbers if n % 2 == 0]
odds = [n for n in numbers if n % 2 != 0]
return evens, odds
? split_even_odd([1, 2, 3, 4, 5]) == ([2, 4], [1, 3, 5])
? split_even_odd([]) == ([], [])

@ interleave_lists(first, second) | alternates the items of two lists, starting with first, and puts the leftovers of the longer list at the end
result = []
for i in range(max(len(first), len(second))):
    result.extend(part[i] for part in (first, second) if i < len(part))
return result
? interleave_lists([1, 2, 3], ['a', 'b']) == [1, 'a', 2, 'b', 3]
? interleave_lists([], [1]) == [1]

@ zeros_to_end(numbers) | returns a new list with the zeros moved to the end and the other numbers in their order
return [n for n in numbers if n != 0] + [0] * numbers.count(0)
? zeros_to_end([0, 1, 0, 3, 12]) == [1, 3, 12, 0, 0]
? zeros_to_end([0]) == [0]
? zeros_to_end([2, 1]) == [2, 1]

@ count_above(numbers, limit) | counts the numbers of a list that are greater than limit
return sum(n > limit for n in numbers)
? count_above([1, 5, 8, 5], 5) == 1
? count_above([], 0) == 0
? count_above([-1, 0, 1], -2) == 3

@ add_lists(first, second) | adds two lists of numbers of the same length position by position
return [a + b for a, b in zip(first, second)]
? add_lists([1, 2, 3], [10, 20, 30]) == [11, 22, 33]
? add_lists([], []) == []

@ dot_product(u, v) | returns the dot product of two vectors given as lists of numbers
return sum(a * b for a, b in zip(u, v))
? dot_product([1, 2, 3], [4, 5, 6]) == 32
? dot_product([], []) == 0

@ without_value(items, value) | returns a new list without any item equal to value
return [item for item in items if item != value]
? without_value([1, 2, 1, 3], 1) == [2, 3]
? without_value(['a'], 'b') == ['a']

@ spread(numbers) | returns the difference between the largest and the smallest number of a list, or 0 for an empty list
return max(numbers) - min(numbers) if numbers else 0
? spread([3, 9, 1]) == 8
? spread([]) == 0
? spread([4]) == 0

@ count_distinct(items) | returns how many different items a list contains
return len(set(items))
? count_distinct([1, 2, 2, 3, 3, 3]) == 3
? count_distinct([]) == 0

@ every_nth(items, step) | returns every step-th item of a list, starting with the first
return items[::step]
? every_nth([1, 2, 3, 4, 5], 2) == [1, 3, 5]
? every_nth(['a', 'b', 'c'], 5) == ['a']

@ squares_total(values) | adds up the square of every value in a list
return sum(v * v for v in values)
? squares_total([1, 2, 3]) == 14
? squares_total([]) == 0
? squares_total([-2]) == 4

@ missing_number(numbers) | finds the one number missing from a list that holds every other number from 0 to len(numbers)
n = len(numbers)
return n * (n + 1) // 2 - sum(numbers)
? missing_number([3, 0, 1]) == 2
? missing_number([0]) == 1
? missing_number([1, 2]) == 0

@ has_repeats(items) | checks whether any item occurs more than once in a list
return len(set(items)) != len(items)
? has_repeats([1, 2, 3, 1]) is True
? has_repeats([1, 2, 3]) is False
? has_repeats([]) is False

@ common_items(first, second) | returns the items of first that are also in second, in first's order and each once
seen, result = set(), []
for item in first:
    if item in second and item not in seen:
        seen.add(item)
        result.append(item)
return result
? common_items([3, 1, 2, 3], [2, 3]) == [3, 2]
? common_items([1], []) == []

@ closest_value(numbers, target) | returns the number of a list that is closest to target, the first one on a tie
return min(numbers, key=lambda n: abs(n - target))
? closest_value([1, 5, 9], 6) == 5
? closest_value([1, 3], 2) == 1
? closest_value([-4, 10], -7) == -4

@ count_runs(items) | counts the runs of equal adjacent items in a list, so [1, 1, 2, 1] has three
return sum(1 for i, item in enumerate(items) if i == 0 or item != items[i - 1])
? count_runs([1, 1, 2, 1]) == 3
? count_runs([]) == 0
? count_runs(['a', 'a']) == 1

@ longest_run(items) | returns the length of the longest run of equal adjacent items in a list
from itertools import groupby
return max((len(list(group)) for _, group in groupby(items)), default=0)
? longest_run([1, 1, 2, 2, 2, 1]) == 3
? longest_run([]) == 0
? longest_run(['x']) == 1

@ window_sums(numbers, width) | adds up each group of width neighbouring numbers, giving one total per starting position
return [sum(numbers[i : i + width]) for i in range(len(numbers) - width + 1)]
? window_sums([1, 2, 3, 4], 2) == [3, 5, 7]
? window_sums([1, 2], 3) == []
? window_sums([5, 5, 5], 3) == [15]

@ adjacent_pairs(items) | returns the list of (item, next item) tuples of a list
return list(zip(items, items[1:]))
? adjacent_pairs([1, 2, 3]) == [(1, 2), (2, 3)]
? adjacent_pairs([1]) == []

@ partition_around(numbers, pivot) | returns a tuple of the numbers below pivot and the numbers at or above it, both in their original order
below = [n for n in numbers if n < pivot]
return below, [n for n in numbers if n >= pivot]
? partition_around([5, 1, 7, 3], 4) == ([1, 3], [5, 7])
? partition_around([], 0) == ([], [])

@ zero_negatives(numbers) | replaces every negative number in a list with 0
return [n if n > 0 else 0 for n in numbers]
? zero_negatives([-1, 2, -3]) == [0, 2, 0]
? zero_negatives([]) == []

@ normalize(weights) | scales a list of positive numbers so that they add up to 1
total = sum(weights)
return [w / total for w in weights]
? normalize([1, 1, 2]) == [0.25, 0.25, 0.5]
? normalize([3]) == [1.0]

@ argsort(values) | returns the indexes that would put a list in ascending order, equal values keeping their order
return sorted(range(len(values)), key=values.__getitem__)
? argsort([30, 10, 20]) == [1, 2, 0]
? argsort([]) == []
? argsort([1, 1]) == [0, 1]

@ sort_by_length(words) | sorts a list of words from shortest to longest, keeping the order of words of equal length
return sorted(words, key=len)
? sort_by_length(['ccc', 'a', 'bb', 'd']) == ['a', 'd', 'bb', 'ccc']
? sort_by_length([]) == []

@ sort_by_age(people) | sorts a list of (name, age) tuples by age, then by name
return sorted(people, key=lambda person: (person[1], person[0]))
? sort_by_age([('bo', 30), ('al', 25), ('cy', 25)]) == [('al', 25), ('cy', 25), ('bo', 30)]
? sort_by_age([]) == []

@ smallest_n(numbers, n) | picks the n lowest values from numbers, lowest first
import heapq
return heapq.nsmallest(n, numbers)
? smallest_n([5, 1, 4, 2], 2) == [1, 2]
? smallest_n([3], 5) == [3]
? smallest_n([1, 2], 0) == []

@ count_between(numbers, low, high) | counts the numbers of a list that lie between low and high, both included
return sum(low <= n <= high for n in numbers)
? count_between([1, 5, 10, 15], 5, 10) == 2
? count_between([], 0, 1) == 0

@ all_same(items) | checks whether all the items of a list are equal (True for an empty list)
return all(item == items[0] for item in items)
? all_same([3, 3, 3]) is True
? all_same([3, 4]) is False
? all_same([]) is True

@ list_difference(first, second) | returns the items of first that do not occur in second, keeping order and repeats
return [item for item in first if item not in second]
? list_difference([1, 2, 2, 3], [2]) == [1, 3]
? list_difference([], [1]) == []

@ insert_sorted(numbers, value) | returns a new sorted list with value inserted into the sorted list numbers
import bisect
result = list(numbers)
bisect.insort(result, value)
return result
? insert_sorted([1, 3, 5], 4) == [1, 3, 4, 5]
? insert_sorted([], 2) == [2]
? original = [1] ;; insert_sorted(original, 0) ;; assert original == [1]

@ scale_list(numbers, factor) | multiplies every number of a list by factor
return [n * factor for n in numbers]
? scale_list([1, 2, 3], 3) == [3, 6, 9]
? scale_list([], 2) == []

@ last_n(items, n) | returns the last n items of a list (an empty list when n is 0)
return items[-n:] if n > 0 else []
? last_n([1, 2, 3, 4], 2) == [3, 4]
? last_n([1, 2], 0) == []
? last_n([1], 3) == [1]

@ pad_list(items, length, fill) | returns a copy of a list padded with fill up to length items, never shortening it
return items + [fill] * (length - len(items))
? pad_list([1, 2], 4, 0) == [1, 2, 0, 0]
? pad_list([1, 2, 3], 2, 0) == [1, 2, 3]

@ peak_indexes(heights) | returns the indexes of the values greater than both of their neighbours
return [i for i in range(1, len(heights) - 1) if heights[i - 1] < heights[i] > heights[i + 1]]
? peak_indexes([1, 3, 2, 4, 1]) == [1, 3]
? peak_indexes([1, 2, 3]) == []

@ split_at(items, index) | returns a tuple of the items before index and the items from index on
return items[:index], items[index:]
? split_at([1, 2, 3, 4], 1) == ([1], [2, 3, 4])
? split_at([], 0) == ([], [])

@ alternating_sum(numbers) | adds the numbers at even indexes and subtracts the numbers at odd indexes
return sum(n if i % 2 == 0 else -n for i, n in enumerate(numbers))
? alternating_sum([1, 2, 3, 4]) == -2
? alternating_sum([]) == 0
? alternating_sum([5]) == 5

@ swap_ends(items) | returns a copy of a list with its first and last items swapped
if len(items) < 2:
    return list(items)
return [items[-1]] + items[1:-1] + [items[0]]
? swap_ends([1, 2, 3, 4]) == [4, 2, 3, 1]
? swap_ends([1]) == [1]
? swap_ends([]) == []

@ cumulative_max_count(numbers) | counts how many numbers are larger than every number before them (the first number counts)
count, best = 0, None
for n in numbers:
    if best is None or n > best:
        count, best = count + 1, n
return count
? cumulative_max_count([3, 1, 4, 1, 5]) == 3
? cumulative_max_count([]) == 0
? cumulative_max_count([2, 2]) == 1

@ repeat_list(items, times) | returns a list with the whole list repeated times times
return items * times
? repeat_list([1, 2], 3) == [1, 2, 1, 2, 1, 2]
? repeat_list([1], 0) == []

@ nonzero_indexes(values) | returns the indexes of the values of a list that are not zero
return [i for i, value in enumerate(values) if value != 0]
? nonzero_indexes([0, 3, 0, -1]) == [1, 3]
? nonzero_indexes([0, 0]) == []

@ values_at(items, indexes) | returns the items of a list at the given indexes, in the order of indexes
return [items[i] for i in indexes]
? values_at(['a', 'b', 'c'], [2, 0]) == ['c', 'a']
? values_at([1], []) == []

@ sign_changes(numbers) | counts how often consecutive non-zero numbers in a list change sign
signs = [n > 0 for n in numbers if n != 0]
return sum(a != b for a, b in zip(signs, signs[1:]))
? sign_changes([1, -2, 3, 0, 4, -5]) == 3
? sign_changes([1, 2]) == 0
? sign_changes([]) == 0

== dicts
@ invert_dict(mapping) | swaps the keys and values of a dict whose values are all different
return {value: key for key, value in mapping.items()}
? invert_dict({'a': 1, 'b': 2}) == {1: 'a', 2: 'b'}
? invert_dict({}) == {}

@ keys_for_value(mapping, target) | returns the sorted keys of a dict whose value equals target
return sorted(key for key, value in mapping.items() if value == target)
? keys_for_value({'b': 1, 'a': 1, 'c': 2}, 1) == ['a', 'b']
? keys_for_value({'a': 1}, 5) == []

@ pair_up(keys, values) | builds a dict from a list of keys and a list of values of the same length
return dict(zip(keys, values))
? pair_up(['a', 'b'], [1, 2]) == {'a': 1, 'b': 2}
? pair_up([], []) == {}

@ count_by_initial(words) | returns a dict from each first letter to how many words of a list start with it
counts = {}
for word in words:
    counts[word[0]] = counts.get(word[0], 0) + 1
return counts
? count_by_initial(['apple', 'avocado', 'banana']) == {'a': 2, 'b': 1}
? count_by_initial([]) == {}

@ group_by_length(words) | returns a dict from each word length to the list of words of that length, in order
groups = {}
for word in words:
    groups.setdefault(len(word), []).append(word)
return groups
? group_by_length(['hi', 'sun', 'ok', 'tree']) == {2: ['hi', 'ok'], 3: ['sun'], 4: ['tree']}
? group_by_length([]) == {}

@ entries_at_least(scores, minimum) | returns a new dict with only the entries whose value is at least minimum
return {key: value for key, value in scores.items() if value >= minimum}
? entries_at_least({'a': 5, 'b': 2, 'c': 9}, 5) == {'a': 5, 'c': 9}
? entries_at_least({}, 1) == {}

@ total_of_values(mapping) | adds up all the values of a dict of numbers
return sum(mapping.values())
? total_of_values({'x': 2, 'y': 3}) == 5
? total_of_values({}) == 0

@ key_of_highest(mapping) | returns the key with the highest value in a dict, the first such key on a tie, or None when it is empty
best = None
for key, value in mapping.items():
    if best is None or value > mapping[best]:
        best = key
return best
? key_of_highest({'a': 3, 'b': 7, 'c': 7}) == 'b'
? key_of_highest({}) is None

@ nested_get(data, path) | follows a list of keys through nested dicts and returns the value found, or None when a key is missing
for key in path:
    if not isinstance(data, dict) or key not in data:
        return None
    data = data[key]
return data
? nested_get({'a': {'b': {'c': 1}}}, ['a', 'b', 'c']) == 1
? nested_get({'a': {'b': 2}}, ['a', 'x']) is None
? nested_get({'a': 1}, []) == {'a': 1}

@ value_counts(mapping) | returns a dict telling how many keys of a dict map to each value
counts = {}
for value in mapping.values():
    counts[value] = counts.get(value, 0) + 1
return counts
? value_counts({'a': 1, 'b': 2, 'c': 1}) == {1: 2, 2: 1}
? value_counts({}) == {}

@ rename_keys(record, renames) | returns a new dict whose keys are renamed according to the dict renames, other keys unchanged
return {renames.get(key, key): value for key, value in record.items()}
? rename_keys({'a': 1, 'b': 2}, {'a': 'alpha'}) == {'alpha': 1, 'b': 2}
? rename_keys({}, {'a': 'b'}) == {}

@ drop_none(settings) | returns a new dict without the entries whose value is None
return {key: value for key, value in settings.items() if value is not None}
? drop_none({'a': None, 'b': 0, 'c': ''}) == {'b': 0, 'c': ''}
? drop_none({}) == {}

@ keys_by_value(mapping) | returns the keys of a dict ordered by value from highest to lowest, ties in alphabetical order
return sorted(mapping, key=lambda key: (-mapping[key], key))
? keys_by_value({'a': 1, 'b': 3, 'c': 3}) == ['b', 'c', 'a']
? keys_by_value({}) == []

@ matching_entries(first, second) | returns a dict of the entries that two dicts share, with the same key and the same value
return {key: value for key, value in first.items() if key in second and second[key] == value}
? matching_entries({'a': 1, 'b': 2}, {'a': 1, 'b': 3}) == {'a': 1}
? matching_entries({}, {'a': 1}) == {}

@ word_positions(words) | returns a dict from each word of a list to the list of positions at which it appears
positions = {}
for i, word in enumerate(words):
    positions.setdefault(word, []).append(i)
return positions
? word_positions(['a', 'b', 'a']) == {'a': [0, 2], 'b': [1]}
? word_positions([]) == {}

@ basket_total(prices, basket) | returns the total price of a basket, a list of item names, given a dict of prices
return sum(prices[item] for item in basket)
? basket_total({'apple': 3, 'pear': 5}, ['apple', 'pear', 'apple']) == 11
? basket_total({'apple': 3}, []) == 0

@ to_query_string(params) | builds a query string like "a=1&b=2" from a dict, in the dict's order
return "&".join(f"{key}={value}" for key, value in params.items())
? to_query_string({'a': 1, 'b': 'x'}) == 'a=1&b=x'
? to_query_string({}) == ''

@ shared_keys(first, second) | returns the sorted list of keys that two dicts both have
return sorted(first.keys() & second.keys())
? shared_keys({'a': 1, 'b': 2}, {'b': 0, 'c': 0}) == ['b']
? shared_keys({}, {'a': 1}) == []

@ names_by_grade(grades) | turns a dict from student name to grade into a dict from grade to the sorted list of names
result = {}
for name, grade in grades.items():
    result.setdefault(grade, []).append(name)
return {grade: sorted(names) for grade, names in result.items()}
? names_by_grade({'bo': 'A', 'al': 'A', 'cy': 'B'}) == {'A': ['al', 'bo'], 'B': ['cy']}
? names_by_grade({}) == {}

@ best_scores(records) | takes a list of (name, score) pairs and returns a dict of each name's best score
best = {}
for name, score in records:
    if name not in best or score > best[name]:
        best[name] = score
return best
? best_scores([('al', 3), ('bo', 5), ('al', 7)]) == {'al': 7, 'bo': 5}
? best_scores([]) == {}

@ letter_positions(text) | returns the alphabet positions (a=1 to z=26) of the ASCII letters in text, ignoring case and other characters
return [ord(char) - 96 for char in text.lower() if "a" <= char <= "z"]
? letter_positions('Abc') == [1, 2, 3]
? letter_positions('z-1') == [26]

@ update_stock(stock, sold) | returns a new stock dict with the counts of sold subtracted, leaving out items whose count reaches zero
result = {}
for item, count in stock.items():
    left = count - sold.get(item, 0)
    if left > 0:
        result[item] = left
return result
? update_stock({'pen': 5, 'cup': 2}, {'cup': 2, 'pen': 1}) == {'pen': 4}
? update_stock({'a': 1}, {}) == {'a': 1}

@ changed_keys(old, new) | returns the sorted keys that were added, removed or given a different value between two dicts
missing = object()
return sorted(key for key in old.keys() | new.keys() if old.get(key, missing) != new.get(key, missing))
? changed_keys({'a': 1, 'b': 2}, {'b': 3, 'c': 4}) == ['a', 'b', 'c']
? changed_keys({'a': 1}, {'a': 1}) == []
? changed_keys({'a': None}, {}) == ['a']

@ defaults_applied(options, defaults) | returns the dict defaults updated with options, leaving out options whose value is None
result = dict(defaults)
result.update((key, value) for key, value in options.items() if value is not None)
return result
? defaults_applied({'size': 3, 'color': None}, {'size': 1, 'color': 'red'}) == {'size': 3, 'color': 'red'}
? defaults_applied({}, {}) == {}

== math
@ triangular_number(n) | returns the n-th triangular number, 1 + 2 + ... + n
return n * (n + 1) // 2
? triangular_number(1) == 1
? triangular_number(4) == 10
? triangular_number(0) == 0

@ sum_of_squares_to(n) | returns 1 squared plus 2 squared plus ... plus n squared
return n * (n + 1) * (2 * n + 1) // 6
? sum_of_squares_to(3) == 14
? sum_of_squares_to(0) == 0
? sum_of_squares_to(10) == 385

@ sum_of_cubes(limit) | returns the sum of the cubes of the whole numbers from 1 to limit
return sum(k**3 for k in range(1, limit + 1))
? sum_of_cubes(3) == 36
? sum_of_cubes(1) == 1
? sum_of_cubes(0) == 0

@ pentagonal_number(n) | returns the n-th pentagonal number, n * (3n - 1) / 2
return n * (3 * n - 1) // 2
? pentagonal_number(1) == 1
? pentagonal_number(4) == 22
? pentagonal_number(5) == 35

@ hexagonal_number(k) | returns the k-th hexagonal number, k * (2k - 1)
return k * (2 * k - 1)
? hexagonal_number(1) == 1
? hexagonal_number(3) == 15

@ is_perfect_square(n) | checks whether an integer is the square of a whole number
import math
return n >= 0 and math.isqrt(n) ** 2 == n
? is_perfect_square(49) is True
? is_perfect_square(50) is False
? is_perfect_square(0) is True
? is_perfect_square(-4) is False

@ is_perfect_number(n) | checks whether n equals the sum of its divisors smaller than itself, as 6 = 1 + 2 + 3 does
return n > 1 and sum(d for d in range(1, n) if n % d == 0) == n
? is_perfect_number(6) is True
? is_perfect_number(28) is True
? is_perfect_number(12) is False
? is_perfect_number(1) is False

@ divisors(n) | returns the sorted list of the positive divisors of a positive integer
return [d for d in range(1, n + 1) if n % d == 0]
? divisors(12) == [1, 2, 3, 4, 6, 12]
? divisors(1) == [1]
? divisors(7) == [1, 7]

@ is_power_of_two(n) | checks whether an integer is a power of two
return n > 0 and n & (n - 1) == 0
? is_power_of_two(64) is True
? is_power_of_two(1) is True
? is_power_of_two(12) is False
? is_power_of_two(0) is False

@ count_set_bits(n) | counts the 1 bits in the binary form of a non-negative integer
return bin(n).count("1")
? count_set_bits(7) == 3
? count_set_bits(0) == 0
? count_set_bits(256) == 1

@ to_binary(n) | writes a non-negative integer in base two as a string of 0s and 1s, without a "0b" prefix
return bin(n)[2:]
? to_binary(5) == '101'
? to_binary(0) == '0'
? to_binary(16) == '10000'

@ from_binary(bits) | converts a string of binary digits to the integer it represents
return int(bits, 2)
? from_binary('101') == 5
? from_binary('0') == 0
? from_binary('11111111') == 255

@ to_base(n, base) | writes a non-negative integer in a base from 2 to 16 with lower-case digits
digits = "0123456789abcdef"
if n == 0:
    return "0"
out = ""
while n:
    n, remainder = divmod(n, base)
    out = digits[remainder] + out
return out
? to_base(255, 16) == 'ff'
? to_base(5, 2) == '101'
? to_base(0, 8) == '0'
? to_base(64, 8) == '100'

@ count_digits(n) | returns how many decimal digits an integer has, ignoring its sign
return len(str(abs(n)))
? count_digits(12345) == 5
? count_digits(0) == 1
? count_digits(-70) == 2

@ is_armstrong(n) | checks whether a non-negative integer equals the sum of its digits each raised to the power of the number of digits, like 153
digits = str(n)
return n == sum(int(d) ** len(digits) for d in digits)
? is_armstrong(153) is True
? is_armstrong(9474) is True
? is_armstrong(154) is False

@ collatz_steps(n) | counts the steps the Collatz rule (halve an even number, else triple it and add one) takes to bring a positive integer to 1
steps = 0
while n != 1:
    n = n // 2 if n % 2 == 0 else 3 * n + 1
    steps += 1
return steps
? collatz_steps(1) == 0
? collatz_steps(6) == 8
? collatz_steps(27) == 111

@ last_digit_of_power(base, exponent) | returns the last decimal digit of base raised to exponent, for non-negative integers
return pow(base, exponent, 10)
? last_digit_of_power(2, 10) == 4
? last_digit_of_power(7, 0) == 1
? last_digit_of_power(123456789, 10**18) == 1

@ is_multiple(number, divisor) | checks whether number is a multiple of a non-zero divisor
return number % divisor == 0
? is_multiple(12, 4) is True
? is_multiple(13, 4) is False
? is_multiple(0, 7) is True

@ sum_of_multiples(limit, a, b) | adds up the positive numbers below limit that are multiples of a or of b
return sum(n for n in range(1, limit) if n % a == 0 or n % b == 0)
? sum_of_multiples(10, 3, 5) == 23
? sum_of_multiples(1, 3, 5) == 0
? sum_of_multiples(20, 7, 11) == 7 + 14 + 11

@ round_to_step(value, step) | rounds value to the nearest multiple of step
return round(value / step) * step
? round_to_step(17, 5) == 15
? round_to_step(18, 5) == 20
? round_to_step(7, 10) == 10

@ percent_of(part, whole) | returns part as a percentage of whole, rounded to one decimal place
return round(100 * part / whole, 1)
? percent_of(1, 3) == 33.3
? percent_of(5, 20) == 25.0
? percent_of(0, 9) == 0.0

@ percent_change(old, new) | returns the percentage change from old to new, rounded to two decimals
return round((new - old) / old * 100, 2)
? percent_change(50, 75) == 50.0
? percent_change(80, 60) == -25.0
? percent_change(3, 4) == 33.33

@ compound_interest(principal, rate, years) | returns the amount after compounding principal yearly at rate (0.05 for 5%) for years years, rounded to cents
return round(principal * (1 + rate) ** years, 2)
? compound_interest(1000, 0.05, 2) == 1102.5
? compound_interest(100, 0.1, 0) == 100
? compound_interest(500, 0.03, 10) == 671.96

@ hypotenuse(a, b) | returns the length of the hypotenuse of a right triangle with legs a and b
import math
return math.hypot(a, b)
? hypotenuse(3, 4) == 5.0
? hypotenuse(5, 12) == 13.0

@ circle_area(radius) | returns the area of a circle of the given radius
import math
return math.pi * radius**2
? round(circle_area(5), 2) == 78.54
? circle_area(0) == 0

@ quadratic_roots(a, b, c) | returns the sorted list of real roots of a*x**2 + b*x + c (a is not 0): empty, one root or two
import math
d = b * b - 4 * a * c
if d < 0:
    return []
if d == 0:
    return [-b / (2 * a)]
r = math.sqrt(d)
return sorted([(-b - r) / (2 * a), (-b + r) / (2 * a)])
? quadratic_roots(1, -3, 2) == [1.0, 2.0]
? quadratic_roots(1, 2, 1) == [-1.0]
? quadratic_roots(1, 0, 1) == []

@ median(values) | returns the median of a non-empty list of numbers, the mean of the two middle ones for an even count
ordered = sorted(values)
mid = len(ordered) // 2
return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
? median([3, 1, 2]) == 2
? median([4, 1, 3, 2]) == 2.5
? median([7]) == 7

@ population_variance(data) | computes the population variance (the mean squared deviation from the mean) of a non-empty data list
mean = sum(data) / len(data)
return sum((x - mean) ** 2 for x in data) / len(data)
? population_variance([2, 4, 4, 4, 5, 5, 7, 9]) == 4.0
? population_variance([3]) == 0.0

@ is_triangle(a, b, c) | checks whether three lengths can be the sides of a triangle, each side shorter than the other two together
return a + b > c and a + c > b and b + c > a
? is_triangle(3, 4, 5) is True
? is_triangle(1, 2, 3) is False
? is_triangle(1, 10, 2) is False

@ triangle_kind(a, b, c) | returns "equilateral", "isosceles" or "scalene" for a triangle with sides a, b and c
distinct = len({a, b, c})
return {1: "equilateral", 2: "isosceles"}.get(distinct, "scalene")
? triangle_kind(2, 2, 2) == 'equilateral'
? triangle_kind(2, 3, 2) == 'isosceles'
? triangle_kind(3, 4, 5) == 'scalene'

@ choose(n, k) | returns the number of ways to choose k items out of n
import math
return math.comb(n, k)
? choose(5, 2) == 10
? choose(4, 0) == 1
? choose(3, 5) == 0

@ pascal_row(n) | returns row n of Pascal's triangle as a list, row 0 being [1]
import math
return [math.comb(n, k) for k in range(n + 1)]
? pascal_row(0) == [1]
? pascal_row(4) == [1, 4, 6, 4, 1]

@ sign(x) | returns -1, 0 or 1 for a negative, zero or positive number
return (x > 0) - (x < 0)
? sign(-7) == -1
? sign(0) == 0
? sign(3.5) == 1

@ geometric_sequence(first, ratio, count) | returns the first count terms of the geometric sequence that starts at first and multiplies by ratio each step
return [first * ratio**i for i in range(count)]
? geometric_sequence(3, 2, 4) == [3, 6, 12, 24]
? geometric_sequence(1, 5, 0) == []

@ arithmetic_sequence(start, step, count) | returns the first count terms of the arithmetic sequence that starts at start and adds step each time
return [start + step * i for i in range(count)]
? arithmetic_sequence(2, 3, 4) == [2, 5, 8, 11]
? arithmetic_sequence(0, -1, 3) == [0, -1, -2]
? arithmetic_sequence(1, 1, 0) == []

@ sum_between(start, stop) | adds up the integers from start to stop, both included (start <= stop)
return sum(range(start, stop + 1))
? sum_between(1, 4) == 10
? sum_between(-2, 2) == 0
? sum_between(5, 5) == 5

@ body_mass_index(weight_kg, height_m) | returns the body mass index, weight in kilograms divided by the square of height in metres, rounded to one decimal
return round(weight_kg / height_m**2, 1)
? body_mass_index(70, 1.75) == 22.9
? body_mass_index(50, 1.6) == 19.5

@ share_of_bill(total, people, tip_percent) | splits a bill with a tip of tip_percent percent between people, returning each share rounded to cents
return round(total * (1 + tip_percent / 100) / people, 2)
? share_of_bill(100, 4, 10) == 27.5
? share_of_bill(60, 3, 0) == 20.0
? share_of_bill(10, 3, 15) == 3.83

@ discounted_price(price, percent_off) | returns a price reduced by percent_off percent, rounded to cents
return round(price * (1 - percent_off / 100), 2)
? discounted_price(80, 25) == 60.0
? discounted_price(19.99, 10) == 17.99
? discounted_price(5, 0) == 5

@ catalan_number(n) | returns the n-th Catalan number, 1, 1, 2, 5, 14, ... starting from n = 0
import math
return math.comb(2 * n, n) // (n + 1)
? catalan_number(0) == 1
? catalan_number(3) == 5
? catalan_number(5) == 42

@ is_happy_number(n) | checks whether repeatedly replacing a positive integer by the sum of the squares of its digits reaches 1
seen = set()
while n != 1 and n not in seen:
    seen.add(n)
    n = sum(int(d) ** 2 for d in str(n))
return n == 1
? is_happy_number(19) is True
? is_happy_number(7) is True
? is_happy_number(4) is False

@ trailing_zeros(n) | counts the zeros at the end of a positive integer written in decimal
text = str(n)
return len(text) - len(text.rstrip("0"))
? trailing_zeros(1200) == 2
? trailing_zeros(7) == 0
? trailing_zeros(1000000) == 6

@ next_multiple(n, k) | returns the smallest multiple of the positive integer k that is at least n
return -(-n // k) * k
? next_multiple(7, 5) == 10
? next_multiple(10, 5) == 10
? next_multiple(0, 3) == 0

@ gray_code(n) | returns the n-th Gray code, n XOR (n shifted right by one)
return n ^ (n >> 1)
? gray_code(0) == 0
? gray_code(2) == 3
? gray_code(7) == 4

@ nearly_equal(a, b, tolerance) | checks whether two numbers differ by at most tolerance
return abs(a - b) <= tolerance
? nearly_equal(0.1 + 0.2, 0.3, 1e-9) is True
? nearly_equal(1, 1.5, 0.1) is False

@ cube_root(x) | returns the real cube root of a number, negative numbers included, rounded to 6 decimals
root = abs(x) ** (1 / 3)
return round(root if x >= 0 else -root, 6)
? cube_root(27) == 3.0
? cube_root(-8) == -2.0
? cube_root(0) == 0.0

@ sum_of_proper_divisors(n) | adds up the divisors of a positive integer that are smaller than it
return sum(d for d in range(1, n) if n % d == 0)
? sum_of_proper_divisors(12) == 16
? sum_of_proper_divisors(1) == 0
? sum_of_proper_divisors(7) == 1

@ int_log2(n) | returns the largest k such that 2 to the power k is at most the positive integer n
return n.bit_length() - 1
? int_log2(1) == 0
? int_log2(8) == 3
? int_log2(1023) == 9

@ harmonic_number(n) | returns 1 + 1/2 + ... + 1/n as a float rounded to 4 decimals
return round(sum(1 / k for k in range(1, n + 1)), 4)
? harmonic_number(1) == 1.0
? harmonic_number(4) == 2.0833
? harmonic_number(0) == 0

@ rectangle_diagonal(width, height) | returns the length of the diagonal of a width by height rectangle, rounded to 2 decimals
import math
return round(math.sqrt(width**2 + height**2), 2)
? rectangle_diagonal(3, 4) == 5.0
? rectangle_diagonal(1, 1) == 1.41

== algorithms
@ merge_sorted(first, second) | merges two sorted lists into one sorted list by walking both with two indexes
i = j = 0
merged = []
while i < len(first) and j < len(second):
    if first[i] <= second[j]:
        merged.append(first[i])
        i += 1
    else:
        merged.append(second[j])
        j += 1
return merged + first[i:] + second[j:]
? merge_sorted([1, 4, 6], [2, 3, 7]) == [1, 2, 3, 4, 6, 7]
? merge_sorted([], [1]) == [1]
? merge_sorted([1, 1], [1]) == [1, 1, 1]

@ max_subarray_sum(numbers) | returns the largest sum of a non-empty run of consecutive numbers in a list (Kadane's algorithm)
best = current = numbers[0]
for n in numbers[1:]:
    current = max(n, current + n)
    best = max(best, current)
return best
? max_subarray_sum([-2, 1, -3, 4, -1, 2, 1, -5, 4]) == 6
? max_subarray_sum([-3, -1, -2]) == -1
? max_subarray_sum([5]) == 5

@ count_inversions(numbers) | counts the pairs of positions i < j where numbers[i] > numbers[j]
n = len(numbers)
return sum(numbers[i] > numbers[j] for i in range(n) for j in range(i + 1, n))
? count_inversions([2, 4, 1, 3, 5]) == 3
? count_inversions([1, 2, 3]) == 0
? count_inversions([3, 2, 1]) == 3

@ longest_increasing_run(numbers) | returns the length of the longest run of consecutive, strictly increasing numbers
best = current = 0
for i, n in enumerate(numbers):
    current = current + 1 if i and n > numbers[i - 1] else 1
    best = max(best, current)
return best
? longest_increasing_run([1, 2, 0, 3, 4, 5]) == 4
? longest_increasing_run([]) == 0
? longest_increasing_run([5, 5]) == 1

@ edit_distance(source, target) | returns the Levenshtein distance: the fewest insertions, deletions and substitutions turning source into target
previous = list(range(len(target) + 1))
for i, a in enumerate(source, 1):
    current = [i]
    for j, b in enumerate(target, 1):
        current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
    previous = current
return previous[-1]
? edit_distance('kitten', 'sitting') == 3
? edit_distance('', 'abc') == 3
? edit_distance('same', 'same') == 0

@ lcs_length(a, b) | returns the length of the longest common subsequence of two strings
table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
for i, x in enumerate(a):
    for j, y in enumerate(b):
        table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
return table[-1][-1]
? lcs_length('abcde', 'ace') == 3
? lcs_length('abc', 'def') == 0
? lcs_length('', 'a') == 0

@ coin_change_ways(amount, coins) | counts the ways to make amount from unlimited coins of the given values, order not mattering
ways = [1] + [0] * amount
for coin in coins:
    for total in range(coin, amount + 1):
        ways[total] += ways[total - coin]
return ways[amount]
? coin_change_ways(5, [1, 2, 5]) == 4
? coin_change_ways(3, [2]) == 0
? coin_change_ways(0, [7]) == 1

@ fewest_coins(amount, coins) | returns the smallest number of coins of the given values that add up to amount, or -1 when it cannot be made
best = [0] + [None] * amount
for total in range(1, amount + 1):
    options = [best[total - c] for c in coins if c <= total and best[total - c] is not None]
    best[total] = min(options) + 1 if options else None
return -1 if best[amount] is None else best[amount]
? fewest_coins(11, [1, 2, 5]) == 3
? fewest_coins(3, [2]) == -1
? fewest_coins(0, [1]) == 0

@ knapsack(weights, values, capacity) | returns the highest total value of items (each used at most once) whose weights fit within capacity
best = [0] * (capacity + 1)
for weight, value in zip(weights, values):
    for room in range(capacity, weight - 1, -1):
        best[room] = max(best[room], best[room - weight] + value)
return best[capacity]
? knapsack([1, 3, 4, 5], [1, 4, 5, 7], 7) == 9
? knapsack([5], [10], 4) == 0
? knapsack([], [], 10) == 0

@ brackets_balanced(text) | checks whether the brackets (), [] and {} in text are balanced and properly nested
pairs = {")": "(", "]": "[", "}": "{"}
opened = []
for char in text:
    if char in "([{":
        opened.append(char)
    elif char in pairs:
        if not opened or opened.pop() != pairs[char]:
            return False
return not opened
? brackets_balanced('([]{})') is True
? brackets_balanced('(]') is False
? brackets_balanced('((') is False
? brackets_balanced('a(b)c') is True

@ distinct_permutations(text) | returns the sorted list of distinct strings made by rearranging all characters of text
from itertools import permutations
return sorted({"".join(p) for p in permutations(text)})
? distinct_permutations('aba') == ['aab', 'aba', 'baa']
? distinct_permutations('ab') == ['ab', 'ba']
? distinct_permutations('') == ['']

@ all_subsets(items) | returns every subset of a list as a list of lists, shorter subsets first and items in their original order
from itertools import combinations
return [list(c) for size in range(len(items) + 1) for c in combinations(items, size)]
? all_subsets([1, 2]) == [[], [1], [2], [1, 2]]
? all_subsets([]) == [[]]
? len(all_subsets([1, 2, 3, 4])) == 16

@ shortest_path_length(graph, start, goal) | returns the fewest edges from start to goal in a graph given as a dict of adjacency lists, or -1 when goal cannot be reached
from collections import deque
distance = {start: 0}
queue = deque([start])
while queue:
    node = queue.popleft()
    if node == goal:
        return distance[node]
    for nxt in graph.get(node, []):
        if nxt not in distance:
            distance[nxt] = distance[node] + 1
            queue.append(nxt)
return -1
? shortest_path_length({'a': ['b', 'c'], 'b': ['d'], 'c': ['d'], 'd': []}, 'a', 'd') == 2
? shortest_path_length({'a': ['b'], 'b': []}, 'b', 'a') == -1
? shortest_path_length({}, 'x', 'x') == 0

@ reachable_nodes(graph, start) | returns the sorted list of nodes reachable from start (start included) in a graph given as a dict of adjacency lists
seen, todo = {start}, [start]
while todo:
    for nxt in graph.get(todo.pop(), []):
        if nxt not in seen:
            seen.add(nxt)
            todo.append(nxt)
return sorted(seen)
? reachable_nodes({1: [2], 2: [3], 3: [1], 4: [1]}, 1) == [1, 2, 3]
? reachable_nodes({}, 'a') == ['a']

@ merge_intervals(intervals) | merges overlapping [start, end] intervals and returns them sorted by start
merged = []
for start, end in sorted(intervals):
    if merged and start <= merged[-1][1]:
        merged[-1][1] = max(merged[-1][1], end)
    else:
        merged.append([start, end])
return merged
? merge_intervals([[1, 3], [2, 6], [8, 10]]) == [[1, 6], [8, 10]]
? merge_intervals([[5, 7], [1, 2]]) == [[1, 2], [5, 7]]
? merge_intervals([]) == []

@ trapped_water(heights) | returns how much rain water is trapped between bars of the given heights
left, right = 0, len(heights) - 1
left_max = right_max = water = 0
while left < right:
    if heights[left] < heights[right]:
        left_max = max(left_max, heights[left])
        water += left_max - heights[left]
        left += 1
    else:
        right_max = max(right_max, heights[right])
        water += right_max - heights[right]
        right -= 1
return water
? trapped_water([0, 1, 0, 2, 1, 0, 1, 3, 2, 1, 2, 1]) == 6
? trapped_water([]) == 0
? trapped_water([3, 0, 3]) == 3

@ longest_unique_substring(text) | returns the length of the longest substring of text without a repeated character
start = best = 0
last = {}
for i, char in enumerate(text):
    if last.get(char, -1) >= start:
        start = last[char] + 1
    last[char] = i
    best = max(best, i - start + 1)
return best
? longest_unique_substring('abcabcbb') == 3
? longest_unique_substring('bbbb') == 1
? longest_unique_substring('') == 0
? longest_unique_substring('pwwkew') == 3

@ equilibrium_index(numbers) | returns the first index where the sum of the numbers before it equals the sum of those after it, or -1
total, left = sum(numbers), 0
for i, n in enumerate(numbers):
    if left == total - left - n:
        return i
    left += n
return -1
? equilibrium_index([1, 7, 3, 6, 5, 6]) == 3
? equilibrium_index([1, 2, 3]) == -1
? equilibrium_index([5]) == 0

@ count_subarrays_with_sum(numbers, target) | counts the runs of consecutive numbers in a list that add up to target
from collections import Counter
seen, total, count = Counter({0: 1}), 0, 0
for n in numbers:
    total += n
    count += seen[total - target]
    seen[total] += 1
return count
? count_subarrays_with_sum([1, 1, 1], 2) == 2
? count_subarrays_with_sum([1, 2, 3], 3) == 2
? count_subarrays_with_sum([], 0) == 0

@ topological_order(graph) | returns the nodes of a directed acyclic graph (a dict from node to the nodes that must come after it) so that each node precedes its successors, choosing the alphabetically smallest ready node first
import heapq
indegree = {node: 0 for node in graph}
for targets in graph.values():
    for t in targets:
        indegree[t] = indegree.get(t, 0) + 1
ready = [node for node, d in indegree.items() if d == 0]
heapq.heapify(ready)
order = []
while ready:
    node = heapq.heappop(ready)
    order.append(node)
    for t in graph.get(node, []):
        indegree[t] -= 1
        if indegree[t] == 0:
            heapq.heappush(ready, t)
return order
? topological_order({'b': ['c'], 'a': ['c'], 'c': []}) == ['a', 'b', 'c']
? topological_order({'x': ['y'], 'y': ['z']}) == ['x', 'y', 'z']
? topological_order({}) == []

@ majority_vote(ballots) | returns the item that has more than half of the ballots in a list, or None when no item has a majority
from collections import Counter
if not ballots:
    return None
item, count = Counter(ballots).most_common(1)[0]
return item if count * 2 > len(ballots) else None
? majority_vote(['a', 'b', 'a']) == 'a'
? majority_vote(['a', 'b']) is None
? majority_vote([]) is None

== parsing
@ parse_key_values(text) | parses a string like "a=1;b=2" into a dict of strings, skipping empty pieces
pairs = (piece.split("=", 1) for piece in text.split(";") if piece)
return {key.strip(): value.strip() for key, value in pairs}
? parse_key_values('a=1;b=2') == {'a': '1', 'b': '2'}
? parse_key_values('') == {}
? parse_key_values('x = y=z;') == {'x': 'y=z'}

@ split_csv_line(line) | splits a comma-separated line into its fields with surrounding spaces removed
return [field.strip() for field in line.split(",")]
? split_csv_line('a, b ,c') == ['a', 'b', 'c']
? split_csv_line('one') == ['one']
? split_csv_line('x,,y') == ['x', '', 'y']

@ clock_to_minutes(clock) | converts a time written "HH:MM" into minutes since midnight
hours, minutes = map(int, clock.split(":"))
return hours * 60 + minutes
? clock_to_minutes('01:30') == 90
? clock_to_minutes('00:00') == 0
? clock_to_minutes('23:59') == 1439

@ format_clock(minutes) | formats minutes since midnight as a 24-hour time "HH:MM"
return f"{minutes // 60:02d}:{minutes % 60:02d}"
? format_clock(90) == '01:30'
? format_clock(0) == '00:00'
? format_clock(1439) == '23:59'

@ parse_version(version) | turns a dotted version string like "1.10.2" into a tuple of integers
return tuple(int(part) for part in version.split("."))
? parse_version('1.10.2') == (1, 10, 2)
? parse_version('3') == (3,)

@ is_newer_version(candidate, current) | checks whether the dotted version string candidate is newer than current, comparing numbers, so "1.10" is newer than "1.9"
return tuple(map(int, candidate.split("."))) > tuple(map(int, current.split(".")))
? is_newer_version('1.10', '1.9') is True
? is_newer_version('2.0.0', '2.0.1') is False
? is_newer_version('1.0', '1.0') is False

@ parse_query(query) | parses a URL query string like "a=1&b=two" into a dict, decoding escapes such as %20
from urllib.parse import parse_qsl
return dict(parse_qsl(query))
? parse_query('a=1&b=two') == {'a': '1', 'b': 'two'}
? parse_query('q=hello%20world') == {'q': 'hello world'}
? parse_query('') == {}

@ extract_hashtags(post) | returns the hashtags of a post, the words following "#", without the "#", in order
import re
return re.findall(r"#(\w+)", post)
? extract_hashtags('Loving #python and #coding!') == ['python', 'coding']
? extract_hashtags('no tags') == []

@ url_host(url) | returns the host name part of a URL such as "https://example.com/path"
from urllib.parse import urlparse
return urlparse(url).hostname
? url_host('https://example.com/path?q=1') == 'example.com'
? url_host('http://sub.site.org:8080/') == 'sub.site.org'

@ parse_bool(text) | turns "yes", "true", "on" or "1" into True and "no", "false", "off" or "0" into False, in any case, and raises ValueError for anything else
lowered = text.strip().lower()
if lowered in ("yes", "true", "on", "1"):
    return True
if lowered in ("no", "false", "off", "0"):
    return False
raise ValueError(f"not a boolean: {text!r}")
? parse_bool('Yes') is True
? parse_bool('off') is False
? try: ;;     parse_bool('maybe') ;;     raised = False ;; except ValueError: ;;     raised = True ;; assert raised

@ duration_seconds(duration) | converts a duration like "1h30m" or "45s" or "2h5s" into a number of seconds
import re
units = {"h": 3600, "m": 60, "s": 1}
return sum(int(count) * units[unit] for count, unit in re.findall(r"(\d+)([hms])", duration))
? duration_seconds('1h30m') == 5400
? duration_seconds('45s') == 45
? duration_seconds('2h5s') == 7205

@ expand_ranges(spec) | expands a page spec like "1-3,5" into the list of numbers [1, 2, 3, 5]
pages = []
for part in spec.split(","):
    low, _, high = part.partition("-")
    pages.extend(range(int(low), int(high or low) + 1))
return pages
? expand_ranges('1-3,5') == [1, 2, 3, 5]
? expand_ranges('7') == [7]
? expand_ranges('2-2,4-5') == [2, 4, 5]

@ compress_ranges(numbers) | writes a sorted list of distinct integers as ranges, so [1, 2, 3, 5] becomes "1-3,5"
parts, i = [], 0
while i < len(numbers):
    j = i
    while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
        j += 1
    parts.append(str(numbers[i]) if i == j else f"{numbers[i]}-{numbers[j]}")
    i = j + 1
return ",".join(parts)
? compress_ranges([1, 2, 3, 5]) == '1-3,5'
? compress_ranges([]) == ''
? compress_ranges([4, 6, 7]) == '4,6-7'

@ is_valid_ipv4(address) | checks whether a string is an IPv4 address: four dot-separated decimal numbers from 0 to 255
parts = address.split(".")
return len(parts) == 4 and all(p.isdigit() and int(p) <= 255 for p in parts)
? is_valid_ipv4('192.168.0.1') is True
? is_valid_ipv4('256.1.1.1') is False
? is_valid_ipv4('1.2.3') is False
? is_valid_ipv4('a.b.c.d') is False

@ is_hex_color(text) | checks whether a string is a colour like "#1a2B3c": a "#" and exactly six hexadecimal digits
import re
return re.fullmatch(r"#[0-9a-fA-F]{6}", text) is not None
? is_hex_color('#1a2B3c') is True
? is_hex_color('#12345') is False
? is_hex_color('123456') is False

@ parse_price(price) | turns a price string like "$1,234.50" into the float 1234.5
return float(price.replace("$", "").replace(",", ""))
? parse_price('$1,234.50') == 1234.5
? parse_price('$0.99') == 0.99
? parse_price('12') == 12.0

@ parse_point(text) | turns a string like "(3, -4)" into the tuple of integers (3, -4)
return tuple(int(part) for part in text.strip("() ").split(","))
? parse_point('(3, -4)') == (3, -4)
? parse_point('(0,0)') == (0, 0)

@ strip_comments(source) | removes "#" comments and the spaces before them from every line of a piece of source text
return "\n".join(line.split("#", 1)[0].rstrip() for line in source.split("\n"))
? strip_comments('x = 1  # one\ny = 2') == 'x = 1\ny = 2'
? strip_comments('# only') == ''

@ parse_headers(text) | parses lines like "Content-Type: text/html" into a dict with lower-case names and stripped values
headers = {}
for line in text.splitlines():
    if ":" in line:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
return headers
? parse_headers('Content-Type: text/html\nX-Count: 3') == {'content-type': 'text/html', 'x-count': '3'}
? parse_headers('') == {}

@ tokenize_arithmetic(expression) | splits an arithmetic expression such as "12+3*(4-1)" into a list of number and operator tokens, ignoring spaces
import re
return re.findall(r"\d+|[-+*/()]", expression)
? tokenize_arithmetic('12+3*(4-1)') == ['12', '+', '3', '*', '(', '4', '-', '1', ')']
? tokenize_arithmetic(' 7 / 2 ') == ['7', '/', '2']

@ evaluate_rpn(tokens) | evaluates a list of tokens in reverse Polish notation with the operators +, -, * and /
import operator
ops = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
stack = []
for token in tokens:
    if token in ops:
        right = stack.pop()
        stack.append(ops[token](stack.pop(), right))
    else:
        stack.append(float(token))
return stack.pop()
? evaluate_rpn(['2', '3', '+', '4', '*']) == 20
? evaluate_rpn(['10', '4', '-']) == 6
? evaluate_rpn(['9', '2', '/']) == 4.5

@ json_value(document, key) | parses a JSON object given as a string and returns the value stored under key, or None when it is missing
import json
return json.loads(document).get(key)
? json_value('{"a": 1, "b": [2, 3]}', 'b') == [2, 3]
? json_value('{"a": 1}', 'z') is None

@ to_json_line(record) | turns a dict into a compact JSON string with sorted keys and no spaces
import json
return json.dumps(record, sort_keys=True, separators=(",", ":"))
? to_json_line({'b': 1, 'a': [1, 2]}) == '{"a":[1,2],"b":1}'
? to_json_line({}) == '{}'

@ parse_csv_rows(text) | parses CSV text whose first line is a header into a list of dicts, one per row
import csv
import io
return list(csv.DictReader(io.StringIO(text)))
? parse_csv_rows('name,age\nann,30\nbo,25') == [{'name': 'ann', 'age': '30'}, {'name': 'bo', 'age': '25'}]
? parse_csv_rows('a,b\n') == []

@ parse_log_level(line) | returns the level word (DEBUG, INFO, WARNING or ERROR) in square brackets in a log line, or None
import re
found = re.search(r"\[(DEBUG|INFO|WARNING|ERROR)\]", line)
return found.group(1) if found else None
? parse_log_level('2024-01-01 [ERROR] disk full') == 'ERROR'
? parse_log_level('[INFO] started') == 'INFO'
? parse_log_level('no level here') is None

== dates
@ days_between(start, end) | returns the number of days from one "YYYY-MM-DD" date to another, negative when end comes first
from datetime import date
return (date.fromisoformat(end) - date.fromisoformat(start)).days
? days_between('2024-01-01', '2024-03-01') == 60
? days_between('2023-05-10', '2023-05-10') == 0
? days_between('2023-01-02', '2023-01-01') == -1

@ weekday_name(day) | returns the English weekday name, like "Monday", of a "YYYY-MM-DD" date
from datetime import date
names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
return names[date.fromisoformat(day).weekday()]
? weekday_name('2024-01-01') == 'Monday'
? weekday_name('2023-12-31') == 'Sunday'

@ add_days(day, count) | returns the "YYYY-MM-DD" date count days after the given "YYYY-MM-DD" date (count may be negative)
from datetime import date, timedelta
return (date.fromisoformat(day) + timedelta(days=count)).isoformat()
? add_days('2024-02-27', 3) == '2024-03-01'
? add_days('2024-01-01', -1) == '2023-12-31'
? add_days('2000-06-15', 0) == '2000-06-15'

@ age_on(birthday, today) | returns someone's age in whole years on the date today, both dates written "YYYY-MM-DD"
from datetime import date
born, now = date.fromisoformat(birthday), date.fromisoformat(today)
return now.year - born.year - ((now.month, now.day) < (born.month, born.day))
? age_on('2000-05-20', '2024-05-19') == 23
? age_on('2000-05-20', '2024-05-20') == 24
? age_on('1990-01-01', '1990-12-31') == 0

@ is_weekend(day) | checks whether a "YYYY-MM-DD" date falls on a Saturday or Sunday
from datetime import date
return date.fromisoformat(day).weekday() >= 5
? is_weekend('2024-06-08') is True
? is_weekend('2024-06-10') is False

@ day_of_year(day) | returns the day number within its year (1 for January 1st) of a "YYYY-MM-DD" date
from datetime import date
return date.fromisoformat(day).timetuple().tm_yday
? day_of_year('2023-01-01') == 1
? day_of_year('2023-02-01') == 32
? day_of_year('2023-12-31') == 365

@ iso_to_us(day) | rewrites a "YYYY-MM-DD" date as "MM/DD/YYYY"
from datetime import date
return date.fromisoformat(day).strftime("%m/%d/%Y")
? iso_to_us('2024-03-09') == '03/09/2024'
? iso_to_us('1999-12-31') == '12/31/1999'

@ us_to_iso(text) | rewrites a date written "MM/DD/YYYY" as "YYYY-MM-DD"
from datetime import datetime
return datetime.strptime(text, "%m/%d/%Y").date().isoformat()
? us_to_iso('03/09/2024') == '2024-03-09'
? us_to_iso('12/31/1999') == '1999-12-31'

@ quarter_of(day) | returns the calendar quarter, 1 to 4, of a "YYYY-MM-DD" date
from datetime import date
return (date.fromisoformat(day).month - 1) // 3 + 1
? quarter_of('2024-01-15') == 1
? quarter_of('2024-06-30') == 2
? quarter_of('2024-10-01') == 4

@ month_name(month) | returns the English name of a month given its number from 1 to 12
import calendar
return calendar.month_name[month]
? month_name(1) == 'January'
? month_name(12) == 'December'

@ next_monday(day) | returns the "YYYY-MM-DD" date of the first Monday strictly after a "YYYY-MM-DD" date
from datetime import date, timedelta
start = date.fromisoformat(day)
return (start + timedelta(days=7 - start.weekday())).isoformat()
? next_monday('2024-06-05') == '2024-06-10'
? next_monday('2024-06-10') == '2024-06-17'
? next_monday('2024-06-09') == '2024-06-10'

@ hours_between(start, end) | returns the hours, as a float, between two times written "YYYY-MM-DDTHH:MM"
from datetime import datetime
delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
return delta.total_seconds() / 3600
? hours_between('2024-01-01T08:00', '2024-01-01T17:30') == 9.5
? hours_between('2024-01-01T22:00', '2024-01-02T01:00') == 3.0

@ is_real_date(year, month, day) | checks whether year, month and day form a date that exists
from datetime import date
try:
    date(year, month, day)
except ValueError:
    return False
return True
? is_real_date(2024, 12, 31) is True
? is_real_date(2024, 4, 31) is False
? is_real_date(2024, 13, 1) is False

@ friday_13ths(year) | returns the month numbers in a year whose 13th day is a Friday
from datetime import date
return [month for month in range(1, 13) if date(year, month, 13).weekday() == 4]
? friday_13ths(2023) == [1, 10]
? friday_13ths(2026) == [2, 3, 11]

@ iso_week_number(day) | returns the ISO week number of a "YYYY-MM-DD" date
from datetime import date
return date.fromisoformat(day).isocalendar()[1]
? iso_week_number('2024-01-01') == 1
? iso_week_number('2024-12-30') == 1
? iso_week_number('2024-06-15') == 24

@ timestamp_to_utc(timestamp) | turns a Unix timestamp in seconds into a UTC time string "YYYY-MM-DD HH:MM:SS"
from datetime import datetime, timezone
return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
? timestamp_to_utc(0) == '1970-01-01 00:00:00'
? timestamp_to_utc(86400 + 3661) == '1970-01-02 01:01:01'

@ last_day_of_month(day) | returns the "YYYY-MM-DD" date of the last day of the month of a "YYYY-MM-DD" date
import calendar
from datetime import date
d = date.fromisoformat(day)
return d.replace(day=calendar.monthrange(d.year, d.month)[1]).isoformat()
? last_day_of_month('2024-04-10') == '2024-04-30'
? last_day_of_month('2023-12-01') == '2023-12-31'

@ count_weekdays(start, end) | counts the Monday-to-Friday days from start to end inclusive, both "YYYY-MM-DD" dates
from datetime import date, timedelta
first, last = date.fromisoformat(start), date.fromisoformat(end)
days = (first + timedelta(days=i) for i in range((last - first).days + 1))
return sum(d.weekday() < 5 for d in days)
? count_weekdays('2024-06-03', '2024-06-09') == 5
? count_weekdays('2024-06-08', '2024-06-08') == 0
? count_weekdays('2024-06-01', '2024-06-30') == 20

== sets
@ in_exactly_one(first, second) | returns the sorted items that are in exactly one of two lists
return sorted(set(first) ^ set(second))
? in_exactly_one([1, 2, 3], [3, 4]) == [1, 2, 4]
? in_exactly_one([], []) == []

@ contains_all(small, big) | checks whether every item of the list small also occurs in the list big
return set(small) <= set(big)
? contains_all([1, 2], [2, 3, 1]) is True
? contains_all([1, 5], [1, 2]) is False
? contains_all([], [1]) is True

@ only_in_first(first, second) | returns the sorted distinct items of the first list that the second list lacks
return sorted(set(first) - set(second))
? only_in_first([3, 1, 2, 3], [2]) == [1, 3]
? only_in_first([1], [1]) == []

@ jaccard_index(first, second) | returns the Jaccard similarity of two lists as sets, the size of the intersection over the size of the union, 1.0 when both are empty
a, b = set(first), set(second)
return len(a & b) / len(a | b) if a | b else 1.0
? jaccard_index([1, 2, 3], [2, 3, 4]) == 0.5
? jaccard_index([], []) == 1.0
? jaccard_index([1], [2]) == 0.0

@ missing_letters(text) | returns the sorted lower-case letters of the alphabet that do not appear in text, ignoring case
import string
return sorted(set(string.ascii_lowercase) - set(text.lower()))
? missing_letters('The quick brown fox jumps over the lazy dog') == []
? missing_letters('abcdefghijklmnopqrstuvwx') == ['y', 'z']

@ unique_words(text) | returns the sorted list of distinct lower-cased words of a text
return sorted(set(text.lower().split()))
? unique_words('The cat and THE hat') == ['and', 'cat', 'hat', 'the']
? unique_words('') == []

@ count_shared(first, second) | counts the distinct values that two lists have in common
return len(set(first) & set(second))
? count_shared([1, 2, 2, 3], [2, 3, 3, 4]) == 2
? count_shared([], [1]) == 0

@ no_overlap(first, second) | checks whether two lists have no item in common
return set(first).isdisjoint(second)
? no_overlap([1, 2], [3, 4]) is True
? no_overlap([1, 2], [2]) is False

@ union_of(groups) | returns the sorted union of a list of lists
return sorted(set().union(*groups))
? union_of([[3, 1], [2, 3], []]) == [1, 2, 3]
? union_of([]) == []

@ in_every_list(groups) | returns the sorted items that occur in every list of a non-empty list of lists
return sorted(set(groups[0]).intersection(*groups[1:]))
? in_every_list([[1, 2, 3], [2, 3, 4], [3, 2]]) == [2, 3]
? in_every_list([[1, 2]]) == [1, 2]
? in_every_list([[1], [2]]) == []

@ power_set_size(items) | returns how many distinct subsets the distinct values of a list have
return 2 ** len(set(items))
? power_set_size([1, 2, 3]) == 8
? power_set_size([1, 1]) == 2
? power_set_size([]) == 1

@ new_visitors(today, seen_before) | returns, in today's order and once each, the visitors of today's list who are not in the set seen_before
result = []
for visitor in today:
    if visitor not in seen_before and visitor not in result:
        result.append(visitor)
return result
? new_visitors(['ann', 'bo', 'ann', 'cy'], {'bo'}) == ['ann', 'cy']
? new_visitors([], {'x'}) == []

== grids
@ make_grid(rows, cols, fill) | returns a rows by cols grid as a list of lists filled with fill, each row a separate list
return [[fill] * cols for _ in range(rows)]
? make_grid(2, 3, 0) == [[0, 0, 0], [0, 0, 0]]
? grid = make_grid(2, 2, '.') ;; grid[0][0] = '#' ;; assert grid[1][0] == '.'
? make_grid(0, 5, 1) == []

@ count_cells(grid, value) | counts the cells of a grid (a list of rows) that equal value
return sum(row.count(value) for row in grid)
? count_cells([['#', '.'], ['#', '#']], '#') == 3
? count_cells([], 'x') == 0

@ row_sums(table) | totals each row of a table given as a list of lists
return [sum(row) for row in table]
? row_sums([[1, 2], [3, 4]]) == [3, 7]
? row_sums([[]]) == [0]

@ column_sums(table) | returns the sum of each column of a non-empty rectangular table given as a list of rows
return [sum(column) for column in zip(*table)]
? column_sums([[1, 2, 3], [4, 5, 6]]) == [5, 7, 9]
? column_sums([[7]]) == [7]

@ find_cell(grid, value) | returns the (row, col) of the first cell of a grid equal to value, reading row by row, or None
for r, row in enumerate(grid):
    for c, cell in enumerate(row):
        if cell == value:
            return (r, c)
return None
? find_cell([['.', '.'], ['.', 'S']], 'S') == (1, 1)
? find_cell([[1, 2], [2, 1]], 2) == (0, 1)
? find_cell([], 1) is None

@ scale_matrix(matrix, factor) | multiplies every element of a matrix given as a list of lists by factor
return [[value * factor for value in row] for row in matrix]
? scale_matrix([[1, 2], [3, 4]], 2) == [[2, 4], [6, 8]]
? scale_matrix([], 3) == []

@ add_matrices(a, b) | adds two matrices of the same shape, given as lists of lists, element by element
return [[x + y for x, y in zip(row_a, row_b)] for row_a, row_b in zip(a, b)]
? add_matrices([[1, 2], [3, 4]], [[10, 20], [30, 40]]) == [[11, 22], [33, 44]]
? add_matrices([[0]], [[-1]]) == [[-1]]

@ matrix_product(a, b) | multiplies two matrices given as lists of lists, the columns of a matching the rows of b
return [[sum(x * y for x, y in zip(row, col)) for col in zip(*b)] for row in a]
? matrix_product([[1, 2], [3, 4]], [[5, 6], [7, 8]]) == [[19, 22], [43, 50]]
? matrix_product([[1, 2, 3]], [[1], [1], [1]]) == [[6]]

@ identity_matrix(size) | returns the size by size identity matrix as a list of lists of 0 and 1
return [[int(r == c) for c in range(size)] for r in range(size)]
? identity_matrix(2) == [[1, 0], [0, 1]]
? identity_matrix(0) == []
? identity_matrix(3)[2] == [0, 0, 1]

@ in_circle(point, center, radius) | checks whether a point (x, y) lies inside or on a circle with the given center and radius
dx, dy = point[0] - center[0], point[1] - center[1]
return dx * dx + dy * dy <= radius * radius
? in_circle((1, 1), (0, 0), 2) is True
? in_circle((3, 0), (0, 0), 3) is True
? in_circle((3, 3), (0, 0), 4) is False

@ bounding_box(points) | returns (min_x, min_y, max_x, max_y) for a non-empty list of (x, y) points
xs = [x for x, _ in points]
ys = [y for _, y in points]
return (min(xs), min(ys), max(xs), max(ys))
? bounding_box([(1, 5), (-2, 3), (4, 0)]) == (-2, 0, 4, 5)
? bounding_box([(0, 0)]) == (0, 0, 0, 0)

@ overlap_area(a, b) | returns the area shared by two axis-aligned rectangles given as (x1, y1, x2, y2) with x1 < x2 and y1 < y2
width = min(a[2], b[2]) - max(a[0], b[0])
height = min(a[3], b[3]) - max(a[1], b[1])
return width * height if width > 0 and height > 0 else 0
? overlap_area((0, 0, 4, 4), (2, 2, 6, 6)) == 4
? overlap_area((0, 0, 1, 1), (2, 2, 3, 3)) == 0
? overlap_area((0, 0, 5, 5), (1, 1, 2, 2)) == 1

@ polygon_area(vertices) | returns the area of a simple polygon from its (x, y) vertices in order, using the shoelace formula
total = 0
for (x1, y1), (x2, y2) in zip(vertices, vertices[1:] + vertices[:1]):
    total += x1 * y2 - x2 * y1
return abs(total) / 2
? polygon_area([(0, 0), (4, 0), (4, 3), (0, 3)]) == 12.0
? polygon_area([(0, 0), (2, 0), (0, 2)]) == 2.0

@ nearest_to_origin(points) | returns the (x, y) point of a non-empty list closest to (0, 0), the first one on a tie
return min(points, key=lambda p: p[0] ** 2 + p[1] ** 2)
? nearest_to_origin([(3, 4), (1, -1), (2, 2)]) == (1, -1)
? nearest_to_origin([(1, 0), (0, 1)]) == (1, 0)

@ spiral_order(matrix) | returns the elements of a matrix given as a list of lists in clockwise spiral order from the top-left corner
result = []
rows = [list(row) for row in matrix]
while rows:
    result.extend(rows.pop(0))
    rows = [list(row) for row in zip(*rows)][::-1]
return result
? spiral_order([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) == [1, 2, 3, 6, 9, 8, 7, 4, 5]
? spiral_order([[1, 2], [3, 4], [5, 6]]) == [1, 2, 4, 6, 5, 3]
? spiral_order([]) == []

@ grid_to_text(grid) | joins a grid of single characters, a list of lists, into text with one line per row
return "\n".join("".join(row) for row in grid)
? grid_to_text([['#', '.'], ['.', '#']]) == '#.\n.#'
? grid_to_text([]) == ''

@ text_to_grid(text) | turns multi-line text into a grid, a list with one list of characters per line
return [list(line) for line in text.splitlines()]
? text_to_grid('ab\ncd') == [['a', 'b'], ['c', 'd']]
? text_to_grid('') == []

@ polygon_perimeter(vertices) | returns the perimeter of a polygon from its (x, y) vertices in order, closing it back to the first vertex
import math
return sum(math.dist(vertices[i - 1], p) for i, p in enumerate(vertices))
? polygon_perimeter([(0, 0), (3, 0), (3, 4)]) == 12.0
? polygon_perimeter([(0, 0), (1, 0), (1, 1), (0, 1)]) == 4.0

@ centroid(points) | returns the centroid (mean x, mean y) of a non-empty list of (x, y) points
n = len(points)
return (sum(x for x, _ in points) / n, sum(y for _, y in points) / n)
? centroid([(0, 0), (4, 0), (4, 4), (0, 4)]) == (2.0, 2.0)
? centroid([(1, 3)]) == (1.0, 3.0)

@ is_square_matrix(matrix) | checks whether a list of lists has as many elements in every row as it has rows
return all(len(row) == len(matrix) for row in matrix)
? is_square_matrix([[1, 2], [3, 4]]) is True
? is_square_matrix([[1, 2, 3], [4, 5, 6]]) is False
? is_square_matrix([]) is True

@ square_color(square) | returns "black" or "white" for a chessboard square written like "a1" or "e4" (a1 is black)
column, row = square[0], int(square[1:])
return "black" if (ord(column) - ord("a") + row) % 2 == 1 else "white"
? square_color('a1') == 'black'
? square_color('b1') == 'white'
? square_color('h8') == 'black'
? square_color('e4') == 'white'

@ grid_size(grid) | returns (number of rows, number of columns) of a rectangular grid given as a list of rows, (0, 0) when empty
return (len(grid), len(grid[0])) if grid else (0, 0)
? grid_size([[1, 2, 3], [4, 5, 6]]) == (2, 3)
? grid_size([]) == (0, 0)

@ knight_can_reach(start, end) | checks whether a chess knight can move in one jump between two squares given as (col, row) tuples
dx, dy = abs(start[0] - end[0]), abs(start[1] - end[1])
return {dx, dy} == {1, 2}
? knight_can_reach((0, 0), (1, 2)) is True
? knight_can_reach((4, 4), (2, 3)) is True
? knight_can_reach((0, 0), (2, 2)) is False

@ cells_on_line(start, end) | returns the (x, y) cells from start to end inclusive along a horizontal, vertical or 45-degree diagonal line
dx = (end[0] > start[0]) - (end[0] < start[0])
dy = (end[1] > start[1]) - (end[1] < start[1])
steps = max(abs(end[0] - start[0]), abs(end[1] - start[1]))
return [(start[0] + i * dx, start[1] + i * dy) for i in range(steps + 1)]
? cells_on_line((0, 0), (3, 0)) == [(0, 0), (1, 0), (2, 0), (3, 0)]
? cells_on_line((2, 2), (0, 0)) == [(2, 2), (1, 1), (0, 0)]
? cells_on_line((1, 1), (1, 1)) == [(1, 1)]

== recursion
@ fast_power(base, exponent) | raises base to a non-negative integer exponent recursively by squaring
if exponent == 0:
    return 1
half = fast_power(base, exponent // 2)
return half * half * (base if exponent % 2 else 1)
? fast_power(2, 10) == 1024
? fast_power(5, 0) == 1
? fast_power(3, 5) == 243

@ count_nested_keys(data) | counts the keys of a dict and of all the dicts nested in its values, recursively
return sum(1 + (count_nested_keys(v) if isinstance(v, dict) else 0) for v in data.values())
? count_nested_keys({'a': 1, 'b': {'c': 2, 'd': {'e': 3}}}) == 5
? count_nested_keys({}) == 0

@ hanoi_moves(n, source, target, spare) | returns the list of (from, to) moves that solve the towers of Hanoi for n discs, recursively
if n == 0:
    return []
return hanoi_moves(n - 1, source, spare, target) + [(source, target)] + hanoi_moves(n - 1, spare, target, source)
? hanoi_moves(1, 'A', 'C', 'B') == [('A', 'C')]
? hanoi_moves(2, 'A', 'C', 'B') == [('A', 'B'), ('A', 'C'), ('B', 'C')]
? len(hanoi_moves(5, 'A', 'C', 'B')) == 31

@ bit_strings(length) | returns all strings of 0s and 1s of the given length in ascending order, built recursively
if length == 0:
    return [""]
shorter = bit_strings(length - 1)
return ["0" + s for s in shorter] + ["1" + s for s in shorter]
? bit_strings(2) == ['00', '01', '10', '11']
? bit_strings(0) == ['']
? len(bit_strings(5)) == 32

@ ackermann(m, n) | computes the Ackermann function of two non-negative integers recursively
if m == 0:
    return n + 1
if n == 0:
    return ackermann(m - 1, 1)
return ackermann(m - 1, ackermann(m, n - 1))
? ackermann(0, 0) == 1
? ackermann(1, 2) == 4
? ackermann(2, 3) == 9

@ lattice_paths(rows, cols) | counts the paths from the top-left to the bottom-right cell of a rows by cols grid moving only right or down, recursively with memoisation
from functools import cache


@cache
def lattice_paths(rows, cols):
    if rows == 1 or cols == 1:
        return 1
    return lattice_paths(rows - 1, cols) + lattice_paths(rows, cols - 1)
? lattice_paths(2, 2) == 2
? lattice_paths(3, 3) == 6
? lattice_paths(1, 7) == 1

@ integer_partitions(n) | counts the ways to write a positive integer n as a sum of positive integers, ignoring order
from functools import cache


def integer_partitions(n):
    @cache
    def count(total, largest):
        if total == 0:
            return 1
        return sum(count(total - part, part) for part in range(1, min(total, largest) + 1))

    return count(n, n)
? integer_partitions(4) == 5
? integer_partitions(1) == 1
? integer_partitions(10) == 42

@ dict_depth(data) | returns how deeply dicts are nested: 0 for a value that is not a dict, 1 for a dict without dict values, and so on
if not isinstance(data, dict):
    return 0
return 1 + max((dict_depth(value) for value in data.values()), default=0)
? dict_depth({'a': {'b': {}}}) == 3
? dict_depth(5) == 0
? dict_depth({'a': 1}) == 1

@ tree_height(node) | returns the height of a binary tree where a node is None or a tuple (value, left, right); an empty tree has height 0
if node is None:
    return 0
return 1 + max(tree_height(node[1]), tree_height(node[2]))
? tree_height(None) == 0
? tree_height((1, (2, None, None), None)) == 2
? tree_height((1, (2, (3, None, None), None), (4, None, None))) == 3

@ tree_total(node) | adds up the values of a binary tree where a node is None or a tuple (value, left, right)
if node is None:
    return 0
value, left, right = node
return value + tree_total(left) + tree_total(right)
? tree_total((1, (2, None, None), (3, None, None))) == 6
? tree_total(None) == 0

@ inorder_values(node) | returns the values of a binary tree, given as None or tuples (value, left, right), in in-order: left subtree, node, right subtree
if node is None:
    return []
value, left, right = node
return inorder_values(left) + [value] + inorder_values(right)
? inorder_values((2, (1, None, None), (3, None, None))) == [1, 2, 3]
? inorder_values(None) == []

@ count_subsets_with_sum(numbers, target) | counts the subsets of a list of positive numbers that add up to target, recursively
if target == 0:
    return 1
if not numbers or target < 0:
    return 0
rest = numbers[1:]
return count_subsets_with_sum(rest, target - numbers[0]) + count_subsets_with_sum(rest, target)
? count_subsets_with_sum([1, 2, 3], 3) == 2
? count_subsets_with_sum([2, 4], 5) == 0
? count_subsets_with_sum([], 0) == 1

@ number_to_words(n) | spells out an integer from 0 to 99 in English words, like "forty-two"
ones = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
tens = "twenty thirty forty fifty sixty seventy eighty ninety".split()
if n < 20:
    return ones[n]
word = tens[n // 10 - 2]
return word if n % 10 == 0 else f"{word}-{ones[n % 10]}"
? number_to_words(42) == 'forty-two'
? number_to_words(13) == 'thirteen'
? number_to_words(70) == 'seventy'
? number_to_words(0) == 'zero'

@ count_change_paths(steps, moves) | counts the ordered ways to cover exactly steps steps using jumps whose sizes are in the list moves, recursively with memoisation
from functools import cache


def count_change_paths(steps, moves):
    @cache
    def ways(left):
        if left == 0:
            return 1
        return sum(ways(left - m) for m in moves if m <= left)

    return ways(steps)
? count_change_paths(4, [1, 3]) == 3
? count_change_paths(5, [2]) == 0
? count_change_paths(0, [1]) == 1

@ binary_tree_mirror(node) | returns the mirror image of a binary tree given as None or tuples (value, left, right), swapping left and right everywhere
if node is None:
    return None
value, left, right = node
return (value, binary_tree_mirror(right), binary_tree_mirror(left))
? binary_tree_mirror((1, (2, None, None), None)) == (1, None, (2, None, None))
? binary_tree_mirror(None) is None

== generators
@ count_up(start, step) | yields start, start + step, start + 2 * step and so on without end, as a generator
while True:
    yield start
    start += step
? from itertools import islice ;; assert list(islice(count_up(3, 2), 4)) == [3, 5, 7, 9]
? next(count_up(0, 5)) == 0

@ evens_up_to(limit) | yields the even numbers from 0 up to limit inclusive, as a generator
yield from range(0, limit + 1, 2)
? list(evens_up_to(7)) == [0, 2, 4, 6]
? list(evens_up_to(8))[-1] == 8
? list(evens_up_to(-1)) == []

@ squares(count) | yields the squares of 0, 1, ..., count - 1, as a generator
for i in range(count):
    yield i * i
? list(squares(4)) == [0, 1, 4, 9]
? list(squares(0)) == []

@ cycle_n(items, count) | yields count values going round the list items again and again, as a generator
for i in range(count):
    yield items[i % len(items)]
? list(cycle_n(['a', 'b'], 5)) == ['a', 'b', 'a', 'b', 'a']
? list(cycle_n([1], 0)) == []

@ until_non_positive(numbers) | yields numbers from an iterable until the first one that is zero or negative, as a generator
for n in numbers:
    if n <= 0:
        return
    yield n
? list(until_non_positive([3, 1, 0, 5])) == [3, 1]
? list(until_non_positive([-1, 2])) == []
? list(until_non_positive([4])) == [4]

@ windows(items, size) | yields every tuple of size consecutive items of a list, as a generator
for i in range(len(items) - size + 1):
    yield tuple(items[i : i + size])
? list(windows([1, 2, 3, 4], 3)) == [(1, 2, 3), (2, 3, 4)]
? list(windows([1], 2)) == []

@ powers_of_two() | yields 1, 2, 4, 8, ... without end, as a generator
value = 1
while True:
    yield value
    value *= 2
? from itertools import islice ;; assert list(islice(powers_of_two(), 5)) == [1, 2, 4, 8, 16]
? next(powers_of_two()) == 1

@ collatz_sequence(start) | yields the Collatz sequence of a positive integer (halve if even, else times three plus one) down to and including 1, as a generator
n = start
yield n
while n != 1:
    n = n // 2 if n % 2 == 0 else 3 * n + 1
    yield n
? list(collatz_sequence(6)) == [6, 3, 10, 5, 16, 8, 4, 2, 1]
? list(collatz_sequence(1)) == [1]

@ take_turns(first, second) | yields one item from each of two iterables in turn, stopping when either runs out, as a generator
for a, b in zip(first, second):
    yield a
    yield b
? list(take_turns([1, 2, 3], 'ab')) == [1, 'a', 2, 'b']
? list(take_turns([], [1])) == []

@ repeat_each(items, times) | yields every item of items times times in a row, as a generator
for item in items:
    for _ in range(times):
        yield item
? list(repeat_each('ab', 2)) == ['a', 'a', 'b', 'b']
? list(repeat_each([1, 2], 0)) == []

@ numbered_lines(lines) | yields each line prefixed with its number starting from 1, like "1: text", as a generator
for number, line in enumerate(lines, 1):
    yield f"{number}: {line}"
? list(numbered_lines(['a', 'b'])) == ['1: a', '2: b']
? list(numbered_lines([])) == []

@ letter_range(first, last) | yields the letters from first to last inclusive, as a generator
for code in range(ord(first), ord(last) + 1):
    yield chr(code)
? ''.join(letter_range('a', 'e')) == 'abcde'
? list(letter_range('x', 'x')) == ['x']
? list(letter_range('c', 'a')) == []

@ nonblank_lines(text) | yields the stripped lines of a text, skipping lines that are empty once stripped, as a generator
for line in text.splitlines():
    if line.strip():
        yield line.strip()
? list(nonblank_lines(' a \n\n  b')) == ['a', 'b']
? list(nonblank_lines('')) == []

@ unordered_pairs(items) | yields every pair (items[i], items[j]) with i < j, as a generator
for i in range(len(items)):
    for j in range(i + 1, len(items)):
        yield items[i], items[j]
? list(unordered_pairs([1, 2, 3])) == [(1, 2), (1, 3), (2, 3)]
? list(unordered_pairs([1])) == []

@ countdown(start) | yields start, start - 1, ..., 1, as a generator
while start > 0:
    yield start
    start -= 1
? list(countdown(3)) == [3, 2, 1]
? list(countdown(0)) == []

@ read_records(lines) | yields a (name, int value) tuple for each "name:value" line, skipping lines without a colon, as a generator
for line in lines:
    if ":" in line:
        name, value = line.split(":", 1)
        yield name.strip(), int(value)
? list(read_records(['a: 1', 'junk', 'b:2'])) == [('a', 1), ('b', 2)]
? list(read_records([])) == []

== classes
@@ ClickCounter() | is a counter class with a `count` attribute starting at 0, `click()` adding one and `reset()` setting it back to 0
class ClickCounter:
    def __init__(self):
        self.count = 0

    def click(self):
        self.count += 1

    def reset(self):
        self.count = 0
? c = ClickCounter() ;; c.click() ;; c.click() ;; assert c.count == 2
? c = ClickCounter() ;; c.click() ;; c.reset() ;; assert c.count == 0

@@ Rectangle(width, height) | is a rectangle class with `area()` and `perimeter()` methods
class Rectangle:
    def __init__(self, width, height):
        self.width = width
        self.height = height

    def area(self):
        return self.width * self.height

    def perimeter(self):
        return 2 * (self.width + self.height)
? Rectangle(3, 4).area() == 12
? Rectangle(3, 4).perimeter() == 14

@@ Circle(radius) | is a circle class with `area()` and `circumference()` methods
import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    def area(self):
        return math.pi * self.radius**2

    def circumference(self):
        return 2 * math.pi * self.radius
? round(Circle(1).area(), 4) == 3.1416
? round(Circle(2).circumference(), 4) == 12.5664

@@ Vector2(x, y) | is a 2D vector class supporting `+`, `==`, `scale(factor)` returning a new vector, and `length()`
import math


class Vector2:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, other):
        return Vector2(self.x + other.x, self.y + other.y)

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)

    def scale(self, factor):
        return Vector2(self.x * factor, self.y * factor)

    def length(self):
        return math.hypot(self.x, self.y)
? Vector2(1, 2) + Vector2(3, 4) == Vector2(4, 6)
? Vector2(1, -2).scale(3) == Vector2(3, -6)
? Vector2(3, 4).length() == 5.0

@@ TodoList() | is a to-do list class with `add(task)`, `complete(task)` and `pending()`, which returns the unfinished tasks in the order they were added
class TodoList:
    def __init__(self):
        self.tasks = []
        self.done = set()

    def add(self, task):
        self.tasks.append(task)

    def complete(self, task):
        self.done.add(task)

    def pending(self):
        return [task for task in self.tasks if task not in self.done]
? t = TodoList() ;; t.add('wash') ;; t.add('cook') ;; t.complete('wash') ;; assert t.pending() == ['cook']
? TodoList().pending() == []

@@ Inventory() | is an inventory class with `add(item, count)`, `remove(item, count)`, which raises ValueError when there are not enough, and `count(item)`, 0 for unknown items
class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, item, count):
        self.items[item] = self.items.get(item, 0) + count

    def remove(self, item, count):
        if self.items.get(item, 0) < count:
            raise ValueError(f"not enough {item}")
        self.items[item] -= count

    def count(self, item):
        return self.items.get(item, 0)
? inv = Inventory() ;; inv.add('bolt', 5) ;; inv.remove('bolt', 2) ;; assert inv.count('bolt') == 3
? Inventory().count('nut') == 0
? inv = Inventory() ;; inv.add('a', 1) ;; try: ;;     inv.remove('a', 2) ;;     raised = False ;; except ValueError: ;;     raised = True ;; assert raised

@@ ShoppingCart() | is a shopping cart class with `add(name, price, quantity=1)` and `total()`, the sum of price times quantity
class ShoppingCart:
    def __init__(self):
        self.lines = []

    def add(self, name, price, quantity=1):
        self.lines.append((name, price, quantity))

    def total(self):
        return sum(price * quantity for _, price, quantity in self.lines)
? cart = ShoppingCart() ;; cart.add('tea', 3, 2) ;; cart.add('cake', 4) ;; assert cart.total() == 10
? ShoppingCart().total() == 0

@@ Student(name) | is a student class with a `name`, `add_grade(grade)` and `best_grade()`, which returns None before any grade is added
class Student:
    def __init__(self, name):
        self.name = name
        self.grades = []

    def add_grade(self, grade):
        self.grades.append(grade)

    def best_grade(self):
        return max(self.grades, default=None)
? s = Student('ann') ;; s.add_grade(70) ;; s.add_grade(90) ;; assert s.best_grade() == 90 and s.name == 'ann'
? Student('bo').best_grade() is None

@@ LRUCache(capacity) | is a least-recently-used cache class with `get(key)`, which returns -1 for a missing key, and `put(key, value)`, which evicts the least recently used key when full
from collections import OrderedDict


class LRUCache:
    def __init__(self, capacity):
        self.capacity = capacity
        self.data = OrderedDict()

    def get(self, key):
        if key not in self.data:
            return -1
        self.data.move_to_end(key)
        return self.data[key]

    def put(self, key, value):
        self.data[key] = value
        self.data.move_to_end(key)
        if len(self.data) > self.capacity:
            self.data.popitem(last=False)
? c = LRUCache(2) ;; c.put(1, 'a') ;; c.put(2, 'b') ;; c.get(1) ;; c.put(3, 'c') ;; assert c.get(2) == -1 and c.get(1) == 'a'
? LRUCache(1).get('x') == -1

@@ Library() | is a library class with `add_book(title)`, `borrow(title)`, which returns True if the book was available and lends it, and `available()`, the sorted titles on the shelf
class Library:
    def __init__(self):
        self.shelf = set()

    def add_book(self, title):
        self.shelf.add(title)

    def borrow(self, title):
        if title not in self.shelf:
            return False
        self.shelf.remove(title)
        return True

    def available(self):
        return sorted(self.shelf)
? lib = Library() ;; lib.add_book('B') ;; lib.add_book('A') ;; assert lib.available() == ['A', 'B']
? lib = Library() ;; lib.add_book('A') ;; assert lib.borrow('A') is True and lib.borrow('A') is False

@@ Deck() | is a deck class holding the 52 cards as strings like "AS" or "10H" (ranks A, 2-10, J, Q, K; suits S, H, D, C) and `deal(count)`, which removes and returns that many cards from the top
class Deck:
    def __init__(self):
        ranks = ["A"] + [str(n) for n in range(2, 11)] + ["J", "Q", "K"]
        self.cards = [rank + suit for suit in "SHDC" for rank in ranks]

    def deal(self, count):
        dealt, self.cards = self.cards[:count], self.cards[count:]
        return dealt
? len(Deck().cards) == 52 and len(set(Deck().cards)) == 52
? d = Deck() ;; hand = d.deal(5) ;; assert len(hand) == 5 and len(d.cards) == 47
? '10H' in Deck().cards

@@ Money(cents) | is a money class storing whole cents, supporting `+` between amounts and printing as dollars like "$1.05"
class Money:
    def __init__(self, cents):
        self.cents = cents

    def __add__(self, other):
        return Money(self.cents + other.cents)

    def __str__(self):
        return f"${self.cents // 100}.{self.cents % 100:02d}"
? str(Money(105)) == '$1.05'
? str(Money(50) + Money(75)) == '$1.25'
? (Money(1) + Money(2)).cents == 3

@@ RingBuffer(capacity) | is a fixed-size buffer class with `append(item)`, which drops the oldest item when full, and `items()`, which returns the items oldest first
from collections import deque


class RingBuffer:
    def __init__(self, capacity):
        self.buffer = deque(maxlen=capacity)

    def append(self, item):
        self.buffer.append(item)

    def items(self):
        return list(self.buffer)
? r = RingBuffer(2) ;; r.append(1) ;; r.append(2) ;; r.append(3) ;; assert r.items() == [2, 3]
? RingBuffer(3).items() == []

@@ Polynomial(coefficients) | is a polynomial class built from coefficients, constant term first, with `evaluate(x)` and `degree()`
class Polynomial:
    def __init__(self, coefficients):
        self.coefficients = list(coefficients)

    def evaluate(self, x):
        result = 0
        for c in reversed(self.coefficients):
            result = result * x + c
        return result

    def degree(self):
        return len(self.coefficients) - 1
? Polynomial([1, 0, 2]).evaluate(3) == 19
? Polynomial([5]).evaluate(10) == 5
? Polynomial([1, 2, 3]).degree() == 2

@@ Graph() | is an undirected graph class with `add_edge(a, b)` and `neighbours(node)`, which returns the sorted neighbours of a node
class Graph:
    def __init__(self):
        self.edges = {}

    def add_edge(self, a, b):
        self.edges.setdefault(a, set()).add(b)
        self.edges.setdefault(b, set()).add(a)

    def neighbours(self, node):
        return sorted(self.edges.get(node, ()))
? g = Graph() ;; g.add_edge('a', 'b') ;; g.add_edge('c', 'a') ;; assert g.neighbours('a') == ['b', 'c'] and g.neighbours('b') == ['a']
? Graph().neighbours('x') == []

@@ Person(name, birth_year) | is a person class with `age_in(year)` and `greeting()`, which returns "Hi, I'm <name>."
class Person:
    def __init__(self, name, birth_year):
        self.name = name
        self.birth_year = birth_year

    def age_in(self, year):
        return year - self.birth_year

    def greeting(self):
        return f"Hi, I'm {self.name}."
? Person('Ada', 1815).age_in(1852) == 37
? Person('Bo', 2000).greeting() == "Hi, I'm Bo."

@@ TrafficLight() | is a traffic light class whose `color` starts as "green" and whose `next()` moves it from green to yellow to red and back to green
class TrafficLight:
    ORDER = ["green", "yellow", "red"]

    def __init__(self):
        self.color = "green"

    def next(self):
        self.color = self.ORDER[(self.ORDER.index(self.color) + 1) % 3]
? TrafficLight().color == 'green'
? t = TrafficLight() ;; t.next() ;; assert t.color == 'yellow'
? t = TrafficLight() ;; t.next() ;; t.next() ;; t.next() ;; assert t.color == 'green'

@@ Scoreboard() | is a scoreboard class with `add(player, points)` and `leader()`, which returns the player with the most points (None when empty)
class Scoreboard:
    def __init__(self):
        self.points = {}

    def add(self, player, points):
        self.points[player] = self.points.get(player, 0) + points

    def leader(self):
        return max(self.points, key=self.points.get, default=None)
? s = Scoreboard() ;; s.add('ann', 3) ;; s.add('bo', 5) ;; s.add('ann', 4) ;; assert s.leader() == 'ann'
? Scoreboard().leader() is None

@@ PhoneBook() | is a phone book class with `add(name, number)`, `lookup(name)`, which returns None for an unknown name, and `names()`, which returns the sorted names
class PhoneBook:
    def __init__(self):
        self.numbers = {}

    def add(self, name, number):
        self.numbers[name] = number

    def lookup(self, name):
        return self.numbers.get(name)

    def names(self):
        return sorted(self.numbers)
? p = PhoneBook() ;; p.add('bo', '555') ;; p.add('al', '123') ;; assert p.lookup('bo') == '555' and p.names() == ['al', 'bo']
? PhoneBook().lookup('x') is None

@@ Interval(start, end) | is a closed interval class with `length()`, `contains(x)` and `overlaps(other)`
class Interval:
    def __init__(self, start, end):
        self.start, self.end = start, end

    def length(self):
        return self.end - self.start

    def contains(self, x):
        return self.start <= x <= self.end

    def overlaps(self, other):
        return self.start <= other.end and other.start <= self.end
? Interval(2, 5).length() == 3
? Interval(2, 5).contains(5) is True and Interval(2, 5).contains(6) is False
? Interval(1, 3).overlaps(Interval(3, 4)) is True and Interval(1, 2).overlaps(Interval(3, 4)) is False

@@ Countdown(start) | is an iterator class that counts down from start to 1 when used in a for loop
class Countdown:
    def __init__(self, start):
        self.current = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.current <= 0:
            raise StopIteration
        self.current -= 1
        return self.current + 1
? list(Countdown(3)) == [3, 2, 1]
? list(Countdown(0)) == []

@@ Board(rows, cols) | is a board class of rows by cols cells, all None at first, with `set(row, col, value)` and `get(row, col)`
class Board:
    def __init__(self, rows, cols):
        self.cells = [[None] * cols for _ in range(rows)]

    def set(self, row, col, value):
        self.cells[row][col] = value

    def get(self, row, col):
        return self.cells[row][col]
? b = Board(2, 3) ;; b.set(1, 2, 'x') ;; assert b.get(1, 2) == 'x' and b.get(0, 2) is None
? Board(1, 1).get(0, 0) is None

@@ Playlist() | is a playlist class with `add(song)` and `next_song()`, which returns the songs in order and starts again after the last one
class Playlist:
    def __init__(self):
        self.songs = []
        self.position = 0

    def add(self, song):
        self.songs.append(song)

    def next_song(self):
        song = self.songs[self.position % len(self.songs)]
        self.position += 1
        return song
? p = Playlist() ;; p.add('a') ;; p.add('b') ;; assert [p.next_song() for _ in range(3)] == ['a', 'b', 'a']
? p = Playlist() ;; p.add('x') ;; assert p.next_song() == 'x' and p.next_song() == 'x'

@@ Version(text) | is a version class built from a dotted string like "1.10.2" that compares with `<` and `==` number by number
class Version:
    def __init__(self, text):
        self.parts = tuple(int(part) for part in text.split("."))

    def __lt__(self, other):
        return self.parts < other.parts

    def __eq__(self, other):
        return self.parts == other.parts
? Version('1.9') < Version('1.10')
? Version('2.0') == Version('2.0')
? not Version('3.1') < Version('3.0')

@@ Thermostat(target) | is a thermostat class with a `target` temperature and `action(current)`, which returns "heat" below target - 1, "cool" above target + 1 and "idle" otherwise
class Thermostat:
    def __init__(self, target):
        self.target = target

    def action(self, current):
        if current < self.target - 1:
            return "heat"
        if current > self.target + 1:
            return "cool"
        return "idle"
? Thermostat(20).action(17) == 'heat'
? Thermostat(20).action(22.5) == 'cool'
? Thermostat(20).action(21) == 'idle'

@@ Matrix2(a, b, c, d) | is a 2 by 2 matrix class, rows (a, b) and (c, d), with `determinant()` and `*` for matrix multiplication
class Matrix2:
    def __init__(self, a, b, c, d):
        self.a, self.b, self.c, self.d = a, b, c, d

    def determinant(self):
        return self.a * self.d - self.b * self.c

    def __mul__(self, o):
        return Matrix2(self.a * o.a + self.b * o.c, self.a * o.b + self.b * o.d,
                       self.c * o.a + self.d * o.c, self.c * o.b + self.d * o.d)
? Matrix2(1, 2, 3, 4).determinant() == -2
? m = Matrix2(1, 2, 3, 4) * Matrix2(0, 1, 1, 0) ;; assert (m.a, m.b, m.c, m.d) == (2, 1, 4, 3)

@@ Tally() | is a tally class with `add(word)`, `count(word)` and `total()`, the number of words added
class Tally:
    def __init__(self):
        self.counts = {}

    def add(self, word):
        self.counts[word] = self.counts.get(word, 0) + 1

    def count(self, word):
        return self.counts.get(word, 0)

    def total(self):
        return sum(self.counts.values())
? t = Tally() ;; t.add('x') ;; t.add('x') ;; t.add('y') ;; assert t.count('x') == 2 and t.total() == 3
? Tally().count('z') == 0

@@ Fraction2(numerator, denominator) | is a fraction class kept in lowest terms with a positive denominator, with `+` and a string form like "3/4"
import math


class Fraction2:
    def __init__(self, numerator, denominator):
        g = math.gcd(numerator, denominator) * (1 if denominator > 0 else -1)
        self.numerator, self.denominator = numerator // g, denominator // g

    def __add__(self, other):
        return Fraction2(self.numerator * other.denominator + other.numerator * self.denominator,
                         self.denominator * other.denominator)

    def __str__(self):
        return f"{self.numerator}/{self.denominator}"
? str(Fraction2(2, 4)) == '1/2'
? str(Fraction2(1, 4) + Fraction2(1, 2)) == '3/4'
? str(Fraction2(1, -3)) == '-1/3'

@@ EventLog() | is an event log class with `record(event)` and `last(n)`, which returns the n most recent events, newest first
class EventLog:
    def __init__(self):
        self.events = []

    def record(self, event):
        self.events.append(event)

    def last(self, n):
        return self.events[::-1][:n]
? log = EventLog() ;; log.record('a') ;; log.record('b') ;; log.record('c') ;; assert log.last(2) == ['c', 'b']
? EventLog().last(3) == []

@@ MinMaxTracker() | is a class with `add(value)` that remembers the smallest and largest values added in `low` and `high` attributes, both None at first
class MinMaxTracker:
    def __init__(self):
        self.low = self.high = None

    def add(self, value):
        if self.low is None or value < self.low:
            self.low = value
        if self.high is None or value > self.high:
            self.high = value
? t = MinMaxTracker() ;; t.add(5) ;; t.add(-2) ;; t.add(9) ;; assert (t.low, t.high) == (-2, 9)
? MinMaxTracker().low is None
"""
