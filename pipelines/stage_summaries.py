"""Summing the stage summaries of several tasks into the one summary a stage prints on one
machine (pipelines/spark_import.py): "202 records in (message 90, status 18); 0 rejected" of
each task, added number by number and list by list."""

import re
from collections import Counter, OrderedDict

# A stage summary is "; "-separated parts of text, numbers ("202 records in"), lists in
# parentheses ("(message 48, status 7)") and lists ("skipped: calls 1"). The summaries of a
# stage's tasks are summed part by part (a part only some tasks have is kept), number by number
# and list by list, with the noun after a number in the form its sum needs.
TOKEN = re.compile(
    r"(?P<pkv> \((?:[a-z_ ]+ \d+(?:, [a-z_ ]+ \d+)*)\))|(?P<kv>[a-z_]+ \d+(?:, [a-z_]+ \d+)*)|(?<![\w/.-])(?P<num>\d+)(?![\w/.-])(?P<word> [a-z]+)?"
)


def singular(word):
    if word.endswith("uses"):  # statuses
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def counts_of(text):
    counts = Counter()
    for pair in text.split(", "):
        key, n = pair.rsplit(" ", 1)
        counts[key] += int(n)
    return counts


def parse_part(part):
    tokens, last = [], 0
    for m in TOKEN.finditer(part):
        tokens.append(["text", part[last:m.start()]])
        if m.group("pkv"):
            tokens.append(["pkv", counts_of(m.group("pkv")[2:-1])])
        elif m.group("kv"):
            tokens.append(["kv", counts_of(m.group("kv"))])
        else:
            word = m.group("word") or ""
            tokens.append(["num", int(m.group("num")), singular(word), {int(m.group("num")) == 1: word}])
        last = m.end()
    tokens.append(["text", part[last:]])
    skeleton = tuple((t[0], " ".join(singular(w) for w in t[1].split(" ")) if t[0] == "text" else t[2] if t[0] == "num" else "")
                     for t in tokens if t[0] != "pkv" and not (t[0] == "text" and t[1] == ""))
    return skeleton, tokens


def merge(mine, theirs):
    """Adds `theirs` into `mine` (parts of the same skeleton); a list in parentheses one lacks is empty."""
    a = [t for t in mine if t[0] != "pkv" and not (t[0] == "text" and t[1] == "")]
    b = [t for t in theirs if t[0] != "pkv" and not (t[0] == "text" and t[1] == "")]
    for x, y in zip(a, b):
        if x[0] == "num":
            x[1] += y[1]
            x[3].update(y[3])
        elif x[0] == "kv":
            x[1] = x[1] + y[1]
    # Parenthesized lists follow a number: add theirs after the same number.
    def details(tokens):
        out, n = {}, -1
        for t in tokens:
            if t[0] == "num":
                n += 1
            elif t[0] == "pkv":
                out[n] = t
        return out
    ours, other = details(mine), details(theirs)
    for n, t in other.items():
        if n in ours:
            ours[n][1] = ours[n][1] + t[1]
            continue
        count = -1
        for i, tok in enumerate(mine):
            if tok[0] == "num":
                count += 1
                if count == n:
                    mine.insert(i + 1, ["pkv", Counter(t[1])])
                    break


def render(tokens):
    text = ""
    for t in tokens:
        if t[0] == "text":
            text += t[1]
        elif t[0] in ("kv", "pkv"):
            items = ", ".join(f"{k} {v}" for k, v in sorted(t[1].items(), key=lambda kv: (-kv[1], kv[0])))
            text += f" ({items})" if t[0] == "pkv" else items
        else:
            one = t[1] == 1
            word = t[3].get(one)
            if word is None:
                base = t[2]
                word = base if one or not base else (base + "es" if base.endswith("us") else base + "s")
            text += f"{t[1]}{word}"
    return text


def summed(lines):
    """The summaries of a stage's tasks as one summary."""
    parts = OrderedDict()
    for line in lines:
        for part in line.split("; "):
            skeleton, tokens = parse_part(part)
            if skeleton in parts:
                merge(parts[skeleton], tokens)
            else:
                parts[skeleton] = tokens
    return ["; ".join(render(t) for t in parts.values())] if parts else []
