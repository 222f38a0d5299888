#!/usr/bin/env python3
"""Generate a synthetic, deterministic news archive for benchmarks.

Every article is a Markdown file with YAML front matter in the archive's
schema (title, date, slug, summary, countries, topics, related, source,
author), written to OUT/<year>/<slug>.md.  The text is made-up English
from a fixed vocabulary: it exercises parsing, templating, taxonomies,
cross-links and search indexing at scale, and says nothing true.

    python3 benchmarks/gen_corpus.py --articles 10000 --out /tmp/corpus/content

Same --articles and --seed give byte-identical files.  Standard library only, but for
--images, which draws a 2400×1600 JPEG beside each article (its lead image) with Pillow:
abstract shapes, obviously not photographs.

Copied from the workplace's shared benchmark material (``shared/bench/gen_corpus.py``,
2026-12-01) so that the tests and benchmarks run from a plain clone; the
archive it writes is unchanged. Some generated dates fall after today.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
from pathlib import Path

COUNTRIES = """United States, China, Japan, India, Germany, United Kingdom, France,
Russia, Ukraine, Brazil, Canada, South Korea, Australia, Mexico, Indonesia,
Turkey, Saudi Arabia, Iran, Israel, Egypt, South Africa, Nigeria, Kenya,
Ethiopia, Argentina, Chile, Colombia, Peru, Venezuela, Uruguay, Costa Rica,
Cuba, Spain, Italy, Poland, Netherlands, Sweden, Norway, Finland, Greece,
Hungary, Romania, Pakistan, Bangladesh, Vietnam, Thailand, Philippines,
Malaysia, Singapore, Taiwan, New Zealand, Syria, Lebanon, Jordan, Iraq,
Qatar, United Arab Emirates, Morocco, Algeria, Ghana, Senegal, Switzerland,
Austria, Belgium, Ireland, Portugal, Czechia, Serbia, Georgia, Kazakhstan,
Mongolia, Nepal, Sri Lanka, Myanmar, Cambodia, Bolivia, Ecuador, Paraguay,
Panama, Jamaica""".replace("\n", " ").split(", ")

TOPICS = """Trade, Tariffs, Economy, Markets, Stocks, Currencies, Central Banks,
Inflation, Energy, Oil and Gas, Climate, Elections, Diplomacy, Conflict,
Defense, Security, Sanctions, Technology, Artificial Intelligence,
Semiconductors, Autos, Shipbuilding, Agriculture, Manufacturing, Health,
Migration, Human Rights, Courts, Corruption, Labour, Education, Space,
Infrastructure, Housing, Tourism, Culture, Sport, Disasters, Science,
Media""".replace("\n", " ").split(", ")

WORDS = """government minister officials talks agreement deal proposal market
markets investors shares prices growth economy exports imports tariff tariffs
duties quota negotiations round summit leaders president prime parliament
opposition coalition vote voters election campaign policy reform budget
deficit spending tax taxes revenue bank banks rates inflation currency yen
dollar euro rupee bond yields demand supply factory factories output
production orders shipments steel aluminum autos cars parts energy oil gas
power grid prices consumers households wages jobs workers unions strike
companies firms industry sector analysts forecast outlook quarter annual
data report survey index rose fell climbed slipped surged dropped steady
week month year officials said according statement spokesperson agency
ministry department court judge ruling appeal law bill legislation rules
border security troops forces attack attacks drone missile ceasefire talks
aid relief crossing patients hospitals refugees region province capital city
cities residents farmers crops harvest drought flood storm weather climate
emissions targets renewable solar wind nuclear plant project investment
infrastructure port ports railway highway bridge shipping trade routes
partners allies alliance cooperation partnership strategic dialogue envoy
embassy diplomat diplomats tensions dispute sovereignty agreement framework
technology chips semiconductors software artificial intelligence data
networks telecom startups research universities students schools teachers
health vaccine disease outbreak doctors clinics insurance pension retirees
housing rents mortgage construction tourism visitors airline airport flights
exporters importers commodities gold copper wheat rice soybeans coffee sugar
election results turnout candidates ballots polls debate reforms protesters
police arrests investigation corruption charges prosecutors evidence trial
sentence resignation scandal inquiry committee hearing testimony report
press media journalists broadcasters newspaper editor readers audience
minister warned noted added emphasised stressed insisted acknowledged
signalled expected planned announced confirmed denied rejected welcomed
however meanwhile despite although while since after before during amid
significant major minor limited broad sweeping cautious modest sharp
gradual rapid slow stronger weaker higher lower new old first final latest
""".split()

VERBS = """Weighs, Signals, Rejects, Backs, Expands, Cuts, Raises, Delays,
Approves, Warns Over, Seeks, Launches, Ends, Extends, Eases, Tightens,
Reviews, Unveils, Targets, Defends""".replace("\n", " ").split(", ")

NOUNS = """Tariff Plan, Trade Deal, Rate Decision, Budget, Energy Pact,
Border Talks, Chip Exports, Steel Quotas, Aid Package, Election Reform,
Defense Spending, Climate Targets, Auto Duties, Currency Policy, Port
Expansion, Farm Subsidies, Tech Rules, Security Pact, Debt Relief, Pension
Reform""".replace("\n", " ").split(", ")

REASONS = """Market Jitters, Slowing Growth, Rising Tensions, Record Exports,
Weak Demand, Strong Earnings, Supply Shortages, Public Pressure, Summit
Deadline, Currency Swings, Voter Anger, Investor Concern""".replace("\n", " ").split(", ")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def pick_weighted(rng: random.Random, items: list[str], k: int) -> list[str]:
    """k distinct items, Zipf-like: early items are far more common."""
    chosen: list[str] = []
    while len(chosen) < k:
        item = items[min(int(rng.paretovariate(1.1)) - 1, len(items) - 1)]
        if item not in chosen:
            chosen.append(item)
    return chosen


def sentence(rng: random.Random, lo: int = 8, hi: int = 22) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def paragraph(rng: random.Random) -> str:
    text = " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))
    words = text.split(" ")
    if rng.random() < 0.25:  # some inline markup
        i = rng.randrange(1, len(words) - 1)
        words[i] = f"**{words[i]}**"
    if rng.random() < 0.2:
        i = rng.randrange(1, len(words) - 1)
        words[i] = f"[{words[i]}](https://example.org/{words[i].strip('*.').lower()})"
    return " ".join(words)


def body(rng: random.Random, country: str) -> str:
    blocks = [paragraph(rng) for _ in range(rng.randint(5, 12))]
    if rng.random() < 0.4:
        blocks.insert(rng.randrange(1, len(blocks)), "## " + sentence(rng, 3, 6).rstrip("."))
    if rng.random() < 0.3:
        items = "\n".join(f"- {sentence(rng, 4, 10)}" for _ in range(rng.randint(2, 5)))
        blocks.insert(rng.randrange(1, len(blocks)), items)
    if rng.random() < 0.25:
        blocks.insert(rng.randrange(1, len(blocks)),
                      f"> “{sentence(rng, 8, 16)}” said an official in {country}.")
    if rng.random() < 0.1:
        rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} |" for _ in range(3))
        blocks.insert(rng.randrange(1, len(blocks)), f"| Item | Value |\n| --- | ---: |\n{rows}")
    return "\n\n".join(blocks) + "\n"


def yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def picture(rng: random.Random, path: Path, size=(2400, 1600)) -> None:
    """A generated lead image: a gradient and a few shapes (deterministic for the rng state)."""
    from PIL import Image, ImageDraw, ImageOps
    base = Image.linear_gradient("L").resize(size).rotate(rng.choice([0, 90, 180, 270]), expand=False)
    colours = [tuple(rng.randrange(40, 220) for _ in range(3)) for _ in range(2)]
    image = ImageOps.colorize(base, colours[0], colours[1])
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = rng.randrange(80, 500)
        fill = tuple(rng.randrange(0, 256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x - r, y - r, x + r, y + r), fill=fill)
    image.save(path, format="JPEG", quality=85)


def article(rng: random.Random, index: int, earlier: list[str], image: str = "") -> tuple[str, str, str]:
    countries = pick_weighted(rng, COUNTRIES, rng.choice([1, 1, 2, 2, 2, 3, 4]))
    topics = pick_weighted(rng, TOPICS, rng.choice([1, 2, 2, 3]))
    title = (f"{countries[0]} {rng.choice(VERBS)} {rng.choice(NOUNS)} "
             f"Amid {rng.choice(REASONS)}")
    slug = f"{slugify(title)}-{index}"
    start = dt.datetime(2006, 1, 1, tzinfo=dt.timezone.utc)
    when = start + dt.timedelta(minutes=rng.randrange(0, 21 * 365 * 24 * 60))
    related = rng.sample(earlier, min(len(earlier), rng.choice([0, 1, 2, 3, 5])))
    lines = ["---",
             f"title: {yaml_str(title)}",
             f"date: {when.strftime('%Y-%m-%dT%H:%M:%SZ')}",
             f"slug: {slug}",
             f"summary: {yaml_str(sentence(rng, 12, 24))}",
             "countries: [" + ", ".join(yaml_str(c) for c in countries) + "]",
             "topics: [" + ", ".join(yaml_str(t) for t in topics) + "]"]
    if related or rng.random() < 0.2:
        lines.append("related:")
        lines += [f"  - {r}" for r in related]
        if rng.random() < 0.2:
            lines += [f"  - title: {yaml_str(sentence(rng, 5, 9).rstrip('.'))}",
                      f"    url: https://example.org/news/{index}"]
    if image:
        lines += [f"image: {{src: {image}, alt: \"Generated picture {index}: coloured shapes\", "
                  "caption: \"A generated picture, not a photograph.\", credit: Generator}"]
    lines += [f"source: {{name: Example Wire, url: 'https://example.org/wire/{index}'}}",
              f"author: {rng.choice(['Staff', 'A. Reporter', 'B. Correspondent', 'C. Editor'])}",
              "---", ""]
    return slug, when.strftime("%Y"), "\n".join(lines) + body(rng, countries[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--images", action="store_true", help="a 2400x1600 JPEG lead image beside each article (Pillow)")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    earlier: list[str] = []
    total = 0
    pictures = random.Random(args.seed + 1)  # a stream of its own: the articles are the same with or without
    for i in range(args.articles):
        name = f"picture-{i}.jpg" if args.images else ""
        slug, year, text = article(rng, i, earlier[-500:], name)
        path = args.out / year / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if args.images:
            picture(pictures, path.parent / name)
        earlier.append(slug)
        total += len(text.encode())
    print(f"{args.articles} articles, {total / 1e6:.1f} MB, in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
