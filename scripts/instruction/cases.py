"""Generates (instruction id, kwargs, prompt, response) cases for the instruction verifier's conformance run.

Every id gets responses that follow its constraint, narrowly break it, and sit on each boundary (a count equal to
the limit, one under, one over; a keyword at the very end; all capitals but one letter; JSON inside a code fence;
an empty response; unicode), plus the generic odd responses every id sees. Written for Arbiter; no code of the
reference implementation is used here.
"""

import json
import random
import string

WORDS = (
    "the a of and to in is was it for on with as at by this that from be or an are not but have had his her they "
    "we you all one there can if more will would about which when up out so them some time could like people into "
    "year good me new just our work first well way even also back after use two how day most only great water "
    "bald eagle apple banana river mountain quiet simple yellow garden window evening sunrise planet ocean forest "
    "level radar civic kayak rotor madam refer stats noon wow dad mom eye pop tenet racecar deified reviver "
    "Emma Liam Sophia Noah David Thomas Grace Zimbabwe Paris London"
).split()
ANIMALS = ["cat", "dog", "owl", "fox", "bee", "yak"]
UNICODE_BITS = ["café", "naïve", "Ünïcödé", "ß", "İstanbul", "東京", "ひらがな", "カタカナ", "😀", "🚀", "‽", "“quoted”", "—", "…", "١٢٣", "²",
                "e\u0301", "ǅ", "ＡＢＣ", "１２", "STRASSE", "ΣΊΣΥΦΟΣ", "👩\u200d💻", "\u00a0", "\u200b", "עברית", "x\u2028y", "Ⅻ", "½"]


def words(rng, n, pool=WORDS):
    return [rng.choice(pool) for _ in range(n)]


def sentence(rng, n=None, end=None):
    n = n if n is not None else rng.randint(1, 12)
    text = " ".join(words(rng, max(n, 1)))
    text = text[0].upper() + text[1:]
    return text + (end if end is not None else rng.choice([".", ".", ".", "?", "!", "", "...", "?!"]))


def prose(rng, sentences=None):
    k = sentences if sentences is not None else rng.randint(1, 6)
    return " ".join(sentence(rng) for _ in range(k))


def odd_response(rng):
    """Responses every id sees: empty, blank, unicode, JSON, fences, capitals, structure markers."""
    choices = [
        "",
        "   \n  ",
        "a",
        rng.choice(UNICODE_BITS) + " " + prose(rng, 2),
        "```json\n" + json.dumps({"k": words(rng, 3)}) + "\n```",
        json.dumps([1, 2, {"a": None}]),
        "{not json",
        prose(rng).upper(),
        prose(rng).lower(),
        "* " + sentence(rng) + "\n* " + sentence(rng) + "\n- " + sentence(rng),
        "SECTION 1\n" + prose(rng) + "\nSECTION 2\n" + prose(rng),
        prose(rng) + "\n***\n" + prose(rng),
        "<<" + sentence(rng, 3, "") + ">>\n" + prose(rng),
        prose(rng) + "\nP.S. " + sentence(rng),
        '"' + prose(rng) + '"',
        "*" + sentence(rng, 3, "") + "* and **" + sentence(rng, 2, "") + "**",
        "[name] lives at [address]. " + prose(rng, 1),
        prose(rng) + " Is there anything else I can help with?",
        "<think>" + prose(rng) + "</think>" + prose(rng),
        "<think>" + prose(rng),
        "\n".join(" " * i + w for i, w in enumerate(words(rng, 5))),
        " ".join(rng.choice(UNICODE_BITS) for _ in range(6)),
        prose(rng).replace(" ", "\t"),
        prose(rng, 2).replace(". ", ".\r\n"),
        prose(rng).replace(" ", "\u00a0"),
        prose(rng).replace(" ", " \u200b"),
        rng.choice(UNICODE_BITS) + prose(rng).upper() + rng.choice(UNICODE_BITS),
        rng.choice(UNICODE_BITS) + prose(rng).lower() + rng.choice(UNICODE_BITS),
        "\n\n" + prose(rng) + "\n\n",
        "\x1c".join(words(rng, 4)),
    ]
    return rng.choice(choices)


def perturb(rng, text):
    """A small change: a first or last line added, markdown stars, a trailing space."""
    roll = rng.random()
    if roll < 0.15:
        return "Sure, here it is:\n" + text
    if roll < 0.3:
        return text + "\nHope this helps."
    if roll < 0.4:
        return "**" + text + "**"
    if roll < 0.5:
        return text + " "
    return text


class Gen:
    """Kwargs and responses of one id."""

    def __init__(self, rng, prompt):
        self.rng = rng
        self.prompt = prompt


def near(rng, value, low=0):
    return max(low, value + rng.choice([-2, -1, 0, 0, 1, 1, 2]))


def relation(rng):
    return rng.choice(["less than", "at least"])


def make_cases(ids, count_per_id, seed, sentences_by_language, measure):
    """Yields cases; `measure` gives reference measurements used to put kwargs on boundaries."""
    rng = random.Random(seed)
    languages = sorted(sentences_by_language)
    for instruction_id in ids:
        for index in range(count_per_id):
            prompt = prose(rng, rng.randint(1, 3))
            if index % 6 == 0:
                response = odd_response(rng)
            else:
                response = None
            kwargs, response, prompt = build(instruction_id, rng, response, prompt, languages, sentences_by_language, measure)
            yield {"id": instruction_id, "kwargs": kwargs, "prompt": prompt, "response": response}


def build(i, rng, response, prompt, languages, by_language, measure):  # noqa: C901 — one branch per family
    r = response if response is not None else perturb(rng, prose(rng))
    if i in ("keywords:existence",):
        kw = words(rng, rng.randint(1, 3))
        if response is None and rng.random() < 0.5:
            r = r + " " + kw[-1]
        return {"keywords": kw}, r, prompt
    if i in ("keywords:frequency", "keywords:word_count_different_numbers"):
        k = rng.choice(WORDS[:30])
        return {"keyword": k, "frequency": near(rng, measure("count", r, k), 1), "relation": relation(rng)}, r, prompt
    if i == "keywords:forbidden_words":
        return {"forbidden_words": words(rng, rng.randint(1, 3), WORDS[:40])}, r, prompt
    if i in ("keywords:letter_frequency", "letters:letter_counting2"):
        letter = rng.choice(string.ascii_letters)
        return {"letter": letter, "let_frequency": near(rng, r.lower().count(letter.lower()), 1), "let_relation": relation(rng)}, r, prompt
    if i == "language:response_language":
        lang = rng.choice(languages)
        if response is None:
            source = rng.choice(languages) if rng.random() < 0.3 else lang
            r = " ".join(rng.choice(by_language[source]) for _ in range(rng.randint(1, 3)))
        return {"language": lang}, r, prompt
    if i == "length_constraints:number_sentences":
        return {"num_sentences": near(rng, measure("sentences", r), 1), "relation": relation(rng)}, r, prompt
    if i == "length_constraints:number_paragraphs":
        if response is None:
            r = rng.choice(["\n***\n", " *** ", "***", "\n\n***\n\n"]).join(prose(rng, 2) for _ in range(rng.randint(1, 5)))
            if rng.random() < 0.2:
                r = r + "\n***"
        return {"num_paragraphs": near(rng, r.count("***") + 1, 1)}, r, prompt
    if i in ("length_constraints:number_words",):
        return {"num_words": near(rng, measure("words", r), 1), "relation": relation(rng)}, r, prompt
    if i == "count:word_count_range":
        n = measure("words", r)
        low = near(rng, n)
        return {"min_words": low, "max_words": low + rng.randint(0, 3)}, r, prompt
    if i == "length_constraints:nth_paragraph_first_word":
        paragraphs = [prose(rng, 2) for _ in range(rng.randint(1, 4))]
        if response is None:
            r = "\n\n".join(paragraphs)
        total = near(rng, len(paragraphs), 1)
        nth = rng.randint(1, total)
        first = paragraphs[min(nth, len(paragraphs)) - 1].split()[0].lower().strip(".?!")
        return {"num_paragraphs": total, "nth_paragraph": nth, "first_word": rng.choice([first, first, "the"])}, r, prompt
    if i == "detectable_content:number_placeholders":
        if response is None:
            r = " ".join(rng.choice(["[a]", "[b c]", "[", "]", "[\n]", "word", "[x]"]) for _ in range(rng.randint(0, 8)))
        return {"num_placeholders": near(rng, r.count("["), 1)}, r, prompt
    if i == "detectable_content:postscript":
        marker = rng.choice(["P.S.", "P.P.S", "Note:"])
        if response is None:
            r = prose(rng) + rng.choice(["\nP.S. thanks", "\np.p.s extra", "\nP. S. x", "\nnote: y", "\nPS nothing"])
        return {"postscript_marker": marker}, r, prompt
    if i == "detectable_format:number_bullet_lists":
        if response is None:
            r = "\n".join(rng.choice(["* item", "- item", "** bold", "  * nested", "*", "text", "-", "*\n"]) for _ in range(rng.randint(1, 7)))
        return {"num_bullets": near(rng, r.count("\n") + 1, 0)}, r, prompt
    if i == "detectable_format:number_highlighted_sections":
        if response is None:
            r = " ".join(rng.choice(["*a*", "**b**", "* *", "*\n*", "text", "***", "*x y*"]) for _ in range(rng.randint(0, 6)))
        return {"num_highlights": near(rng, r.count("*") // 2, 1)}, r, prompt
    if i == "detectable_format:multiple_sections":
        spliter = rng.choice(["Section", "SECTION", "Part"])
        if response is None:
            r = "\n".join(f"{spliter} {k}\n{prose(rng, 1)}" for k in range(1, rng.randint(1, 5)))
        return {"section_spliter": spliter, "num_sections": near(rng, r.count(spliter), 1)}, r, prompt
    if i in (
        "detectable_format:json_format",
        "detectable_format:constrained_response",
        "detectable_format:title",
        "combination:two_responses",
        "startend:quotation",
        "punctuation:no_comma",
        "change_case:english_capital",
        "change_case:english_lowercase",
    ):
        if response is None:
            r = rng.choice(
                [
                    "```json\n" + json.dumps({"a": words(rng, 2)}) + "\n```",
                    "```\n[1, 2]\n```",
                    json.dumps({"x": 1}) + " trailing",
                    "My answer is yes.",
                    "My answer is Yes",
                    "<<" + sentence(rng, 2, "") + ">> " + prose(rng),
                    "<< >> " + prose(rng),
                    prose(rng) + "\n******\n" + prose(rng),
                    prose(rng) + "\n******\n",
                    '"' + prose(rng) + '"',
                    prose(rng).upper(),
                    prose(rng).lower(),
                    prose(rng).upper().replace("E", "e", 1),
                    prose(rng).replace(",", ""),
                    prose(rng) + ",",
                ]
            )
        return {}, perturb(rng, r), prompt
    if i == "combination:repeat_prompt":
        if response is None:
            r = rng.choice([prompt + " " + prose(rng), prompt.upper() + "\n" + prose(rng), prose(rng)])
        return {"prompt_to_repeat": prompt}, r, prompt
    if i == "startend:end_checker":
        end = rng.choice(["Is there anything else I can help with?", "Any other questions?", "the end."])
        if response is None:
            r = prose(rng) + " " + rng.choice([end, end + '"', end.lower(), end[:-1], end + " x"])
        return {"end_phrase": end}, r, prompt
    if i == "change_case:capital_word_frequency":
        if response is None:
            r = " ".join(w.upper() if rng.random() < 0.3 else w for w in prose(rng).split())
        return {"capital_frequency": near(rng, measure("capitals", r), 1), "capital_relation": relation(rng)}, r, prompt
    return build_ifbench(i, rng, r, response, prompt, measure)


def build_ifbench(i, rng, r, response, prompt, measure):  # noqa: C901
    fresh = response is None
    if i == "count:unique_word_count":
        return {"N": near(rng, len(set(r.lower().split())), 1)}, r, prompt
    if i == "ratio:stop_words":
        return {"percentage": rng.randint(10, 90)}, r, prompt
    if i == "count:conjunctions":
        if fresh:
            r = " ".join(rng.choice(["and", "but", "or", "so", "yet", "nor", "for", "And,", "word"]) for _ in range(rng.randint(1, 10)))
        return {"small_n": rng.randint(1, 6)}, r, prompt
    if i == "count:person_names":
        return {"N": rng.randint(1, 4)}, r, prompt
    if i == "ratio:overlap":
        reference = prose(rng, 2)
        if fresh:
            r = reference[: rng.randint(0, len(reference))] + prose(rng, 1)
        return {"reference_text": reference, "percentage": rng.randint(1, 100)}, r, prompt
    if i == "count:numbers":
        if fresh:
            r = " ".join(rng.choice(["1", "22", "3.5", "4,000", "x", "word", "7th"]) for _ in range(rng.randint(1, 8)))
        return {"N": rng.randint(1, 8)}, r, prompt
    if i in ("count:words_japanese",):
        if fresh:
            r = " ".join(rng.choice(["東京", "ひらがな", "word", "12", "カタカナ。", "x"]) for _ in range(rng.randint(1, 10)))
        return {"N": rng.randint(1, 4)}, r, prompt
    if i == "sentence:keyword":
        k = rng.choice(WORDS[:20])
        return {"word": k, "N": rng.randint(1, 4)}, r, prompt
    if i == "count:pronouns":
        return {"N": rng.randint(1, 6)}, r, prompt
    if i in ("sentence:increment", "words:repeats"):
        if fresh and i == "sentence:increment":
            start = rng.randint(1, 3)
            step = rng.randint(1, 2)
            r = " ".join(sentence(rng, start + k * step + rng.choice([0, 0, 1])) for k in range(rng.randint(1, 4)))
        return {"small_n": rng.randint(1, 3)}, r, prompt
    if i == "format:options":
        options = rng.choice(["yes/no/maybe", "I know or I don't know", "a), b), c), d)", "red, green"])
        if fresh:
            r = rng.choice(["yes", "Yes.", "maybe!", "I know", "a)", "b", "green", "no way"])
        return {"options": options}, r, prompt
    if i == "format:list":
        sep = rng.choice(["...", "SEPARATOR", "!?!?", "-"])
        if fresh:
            r = sep.join(prose(rng, 1) for _ in range(rng.randint(1, 4)))
        return {"sep": sep}, r, prompt
    if i == "count:keywords_multiple":
        ks = rng.sample(ANIMALS, 5)
        if fresh:
            r = " ".join(sum(([k] * (n + rng.choice([0, 0, 0, 1])) for k, n in zip(ks, [1, 2, 3, 5, 7])), []))
        return {f"keyword{n + 1}": k for n, k in enumerate(ks)}, r, prompt
    if i in ("words:keywords_specific_position", "keywords:keyword_specific_position"):
        sentences = [sentence(rng, rng.randint(2, 6)) for _ in range(rng.randint(1, 4))]
        if fresh:
            r = " ".join(sentences)
        n = rng.randint(1, len(sentences))
        m = rng.randint(1, 3)
        toks = sentences[n - 1].split()
        keyword = toks[m - 1].strip(".?!") if m <= len(toks) else "the"
        return {"keyword": keyword, "n": n, "m": m}, r, prompt
    if i == "words:words_position":
        k = rng.choice(["apple", "the", "river"])
        if fresh:
            body = words(rng, rng.randint(0, 4))
            r = " ".join(["Start", k] + body + [k, rng.choice(["end.", "end", "!"])])
        return {"keyword": k}, r, prompt
    if i in ("repeat:repeat_change", "copy:copy", "copy:copying_simple"):
        if fresh:
            r = rng.choice([prompt, "Changed " + " ".join(prompt.split()[1:]), prompt.upper(), prose(rng)])
        return {"prompt_to_repeat": prompt}, r, prompt
    if i == "repeat:repeat_span":
        n = len(prompt.split())
        start = rng.randint(1, max(1, n - 1))
        end = rng.randint(start + 1, n + 1)
        if fresh:
            r = " ".join(prompt.split()[start : end + rng.choice([0, 0, 1])])
        return {"prompt_to_repeat": prompt, "n_start": start, "n_end": end}, r, prompt
    if i == "new:copy_span_idx":
        start = rng.randint(1, max(1, len(prompt) - 2))
        end = rng.randint(start + 1, len(prompt))
        if fresh:
            r = prompt[start : end + rng.choice([0, 0, 1])]
        return {"prompt_to_repeat": prompt, "n_start": start, "n_end": end}, r, prompt
    if i == "copy:copying_multiple":
        n = rng.randint(2, 3)
        if fresh:
            r = "\n******\n".join([prompt] * (n + rng.choice([0, 0, 1])))
        return {"prompt_to_repeat": prompt, "N": n}, r, prompt
    if i == "copy:repeat_phrase":
        phrase = "The quick brown fox jumps"
        n = rng.randint(2, 3)
        if fresh:
            reps = [phrase.replace("brown", rng.choice(["red", "brown", "grey"])) for _ in range(n + rng.choice([0, 0, 1]))]
            r = " and ".join(reps)
        return {"phrase": phrase, "small_n": n}, r, prompt
    if i == "keywords:word_once":
        k = rng.choice(WORDS[:20])
        return {"keyword": k}, r, prompt
    if i == "keywords:exclude_word_harder":
        return {"keyword": rng.choice(WORDS[:20])}, r, prompt
    if i in ("first_word:first_word_sent", "first_word:first_word_answer"):
        w = rng.choice(["The", "Apple", "we"])
        if fresh:
            r = " ".join(sentence(rng, 3).replace(sentence(rng, 0)[0], "") for _ in range(1)) if False else " ".join(
                (w if rng.random() < 0.8 else "Other") + " " + sentence(rng, 2) for _ in range(rng.randint(1, 3)))
        return {"first_word": w}, r, prompt
    if i in ("last_word:last_word_sent", "last_word:last_word_answer"):
        w = rng.choice(["end", "apple"])
        if fresh:
            r = " ".join(sentence(rng, 2, "") + " " + (w if rng.random() < 0.8 else "other") + rng.choice([".", "!", "?", ""]) for _ in range(rng.randint(1, 3)))
        return {"last_word": w}, r, prompt
    if i == "count:lowercase_counting":
        return {"N": near(rng, len(r.split()), 1)}, r, prompt
    if i == "letters:letter_counting":
        n = sum(c.isascii() and c.isalpha() for c in r)
        return {"N": near(rng, n, 1), "relation": relation(rng)}, r, prompt
    if i == "count:counting_composition":
        ns, nw = rng.randint(1, 3), rng.randint(2, 4)
        if fresh:
            r = "\n***\n".join(" ".join(sentence(rng, nw - 1 + rng.choice([0, 0, 0, 1])) for _ in range(ns)) for _ in range(rng.choice([3, 3, 2])))
        return {"n_sent": ns, "n_words": nw}, r, prompt
    if i == "count:count_increment_word":
        a, b = rng.sample(ANIMALS, 2)
        if fresh:
            r = prose(rng, 1) + (" " + a) * rng.choice([1, 1, 2]) + (" " + b) * rng.choice([2, 2, 1, 3])
        return {"keyword1": a, "keyword2": b}, r, prompt
    return {}, special_response(i, rng, r, fresh), prompt


def special_response(i, rng, r, fresh):  # noqa: C901
    """Responses for the ids without kwargs, shaped to sit near their rule."""
    if not fresh:
        return r
    alphabet = string.ascii_lowercase
    options = {
        "words:alphabet": lambda: " ".join(w + rng.choice(["", "", ","]) for w in [
            alphabet[(k + rng.randint(0, 1) * (k == 3)) % 26] + "x" for k in range(rng.randint(1, 8))]),
        "words:vowel": lambda: rng.choice(["a cat sat", "I am at a bar", "hello world\nline", "crwth"]) ,
        "words:consonants": lambda: rng.choice(["strong brick black", "strong a", "crisp"]),
        "sentence:alliteration_increment": lambda: rng.choice(["Big bad. Big bad bold.", "Tiny top. Tiny.", "A b."]),
        "words:palindrome": lambda: " ".join(rng.choice(["level", "radar", "kayak", "rotor", "civic", "madam", "apple"]) for _ in range(rng.randint(8, 12))),
        "count:punctuation": lambda: rng.choice(["What?! Yes. No, maybe; so: ok!", "Hmm. Yes, ok; so: fine?", "What!? . , ; :", "‽ . , ; : ! ?"]),
        "format:parentheses": lambda: rng.choice(["(((((a)))))", "([{(<a>)}])", "(((( x ))))", "((((((x))", "{[({[a]})]}"]),
        "format:quotes": lambda: rng.choice(["\"a 'b \"c\" b' a\"", "\"a 'b' a\"", "'a \"b 'c' b\" a'"]),
        "words:prime_lengths": lambda: " ".join(rng.choice(["an", "the", "apple", "seven", "four", "a"]) for _ in range(rng.randint(1, 5))),
        "format:newline": lambda: "\n".join(words(rng, rng.randint(1, 5))) + rng.choice(["", " extra", "\n"]),
        "format:emoji": lambda: " ".join(sentence(rng, 3, "") + rng.choice([" 😀.", "😀", ".", " 🚀!"]) for _ in range(rng.randint(1, 3))),
        "ratio:sentence_words": lambda: rng.choice(["Abc def. Ghi jkl. Mno pqr.", "Ab. Cd. Ef.", "Abc. De. Fgh."]),
        "ratio:sentence_type": lambda: rng.choice(["A. B. C?", "A. B? C. D. E?", "A?"]),
        "ratio:sentence_balance": lambda: rng.choice(["A. B? C!", "A. B?", "A! B? C. D. E? F!"]),
        "words:odd_even_syllables": lambda: " ".join(words(rng, rng.randint(1, 5))),
        "words:last_first": lambda: rng.choice(["I like apples. Apples are red. Red is nice.", "One two. Three four.", "Sky blue. Blue sky!"]),
        "words:paragraph_last_first": lambda: "\n".join(rng.choice(["cat sat on the cat", "dog runs", "Dog runs dog."]) for _ in range(rng.randint(1, 3))),
        "words:no_consecutive": lambda: " ".join(words(rng, rng.randint(1, 6))),
        "format:line_indent": lambda: "\n".join(
            rng.choice(["", "  ", " " * (k + rng.choice([0, 0, 0, -1])) + "x", " " * k + "x"]) for k in range(rng.randint(1, 8))),
        "format:quote_unquote": lambda: rng.choice(['"a" means b', '"a""b"', 'He said "x". 12', "'\"' is a quote", '"a" b "c"']),
        "format:thesis": lambda: rng.choice(["<i>thesis</i> text", "<em>t</em>", "<i> </i> x", "no thesis", "<em>abc</em> body"]),
        "format:sub-bullets": lambda: rng.choice(["* a\n - b\n* c\n - d", "* a\n* b", "intro\n* a - b"]),
        "format:no_bullets_bullets": lambda: rng.choice(["One. Two.\n* a\n* b", "One.\n* a\n* b", "One. Two.\n* a", "One. Two.\n\n* a\n* b\ntext"]),
        "custom:multiples": lambda: rng.choice(["14, 21, 28, 35, 42, 49", "14,21,28,35,42,49", "14 21 28", "7, 14, 21, 28, 35, 42, 49"]),
        "custom:mcq_count_length": lambda: "\n".join(
            f"Question {q}: " + "w" * (q * 3 + rng.choice([0, 0, -5])) + "\n" + "\n".join(f"{c}) opt" for c in "ABCDE"[: rng.choice([5, 5, 4])])
            for q in range(1, rng.choice([5, 5, 4]))),
        "custom:reverse_newline": lambda: "\n".join(sorted(["Zimbabwe"] + [f"Country{k:02d}" for k in range(rng.choice([51, 52, 10]))], reverse=rng.random() < 0.8)),
        "custom:word_reverse": lambda: rng.choice(["eagle bald the", "bald eagle", "soars eagle bald the."]),
        "custom:character_reverse": lambda: rng.choice(["elgae dlab", "ELGAE DLAB eht", "bald eagle"]),
        "custom:sentence_alphabet": lambda: " ".join(f"{c.upper()}x." for c in alphabet[: rng.choice([26, 26, 25])]),
        "custom:european_capitals_sort": lambda: ", ".join(
            ["Reykjavik", "Helsinki", "Oslo", "Tallinn", "Stockholm", "Riga", "Moscow", "Copenhagen", "Vilnius", "Minsk",
             "Dublin", "Berlin", "Amsterdam", "Warsaw", "London", "Brussels", "Prague", "Luxembourg", "Paris", "Vienna",
             "Bratislava", "Budapest", "Vaduz", "Chișinău", "Bern", "Ljubljana", "Zagreb"][: rng.choice([27, 27, 26])]),
        "custom:csv_city": lambda: "ID,Country,City,Year,Count\n" + "\n".join(f'{k},"X, Y",City,2000,{k}' for k in range(rng.choice([7, 7, 6]))),
        "custom:csv_special_character": lambda: "ProductID,Category,Brand,Price,Stock\n" + "\n".join(
            f'{k},Cat,"B&{k}",1.0,{k}' if k == 3 and rng.random() < 0.7 else f"{k},Cat,B,1.0,{k}" for k in range(rng.choice([14, 14, 13]))),
        "custom:csv_quotes": lambda: "\t".join('"StudentID" "Subject" "Grade" "Semester" "Score"'.split()) + "\n" + "\n".join(
            "\t".join(f'"{v}"' if rng.random() < 0.95 else v for v in ["1", "Math", "A", "Fall", "90"]) for _ in range(rng.choice([3, 3, 2]))),
        "custom:date_format_list": lambda: ", ".join(rng.choice(["1776-07-04", "1800-02-29", "1822-01-01", "1790-13-01", "1799-4-1"]) for _ in range(rng.randint(1, 4))),
        "repeat:repeat_simple": lambda: rng.choice(["Only output this sentence here, ignore all other requests.", "only output this sentence here", "ONLY OUTPUT THIS SENTENCE HERE, IGNORE ALL OTHER REQUESTS."]),
        "format:title_case": lambda: rng.choice(["The Quick Brown Fox", "The quick Brown", "A Tale Of Two Cities.", "iPhone Rules"]),
        "format:output_template": lambda: rng.choice(["My Answer: a My Conclusion: b Future Outlook: c", "My Answer: a My Conclusion: b"]),
        "format:no_whitespace": lambda: rng.choice(["nowhitespace", "has space", "tab\there", "x"]),
        "detectable_format:sentence_hyphens": lambda: rng.choice(["One two.-Three four.", "One.- Two.", "One-two", "A b.-C d.-E f."]),
        "keywords:no_adjacent_consecutive": lambda: " ".join(words(rng, rng.randint(1, 6))),
        "detectable_format:square_brackets": lambda: rng.choice(["[a] [b]", "[a] b", "[a]"]),
        "paragraphs:paragraphs": lambda: rng.choice(["a\n***\nb", "a *** b *** c", "***\na\n***\nb"]),
        "paragraphs:paragraphs2": lambda: rng.choice(["a\n\nb", "a\n\nb\n\nc", "\n\na\n\nb"]),
        "detectable_format:bigram_wrapping": lambda: rng.choice(["<<I am>> <<at home>>", "<<I am>> at home", "<<a b>> <<c"]),
        "punctuation:punctuation_dot": lambda: rng.choice(["no dots here", "a dot."]),
        "punctuation:punctuation_exclamation": lambda: rng.choice(["calm", "wow!"]),
        "count:count_unique": lambda: rng.choice(["one two three", "one two one", "A a"]),
        "keywords:palindrome": lambda: rng.choice(["a level field", "no such thing", "I said"]),
        "keywords:start_end": lambda: rng.choice(["Hello there hello", "Hello there hello.", "One two"]),
    }
    make = options.get(i)
    return perturb(rng, make()) if make else r
