#!/usr/bin/env python3
"""Deterministic catalog data for the pimd rows of the benchmark.

  gen_catalog.py schema               the schema the data needs, as lines
                                      "PATH<tab>JSON BODY" to PUT in order
                                      (idempotent)
  gen_catalog.py csv ROWS FILE        a ROWS-row, 20-column catalog CSV in the
                                      importer's column convention
                                      (attr[-locale|-currency])
  gen_catalog.py ndjson COUNT FILE    COUNT product documents, one a line, as
                                      POST /v1/products/batch takes them
  gen_catalog.py product SKU          one complete product document
  gen_catalog.py listings FILE        request paths of filtered listings
  gen_catalog.py searches FILE        request paths of full-text queries

Every output depends only on the arguments and SEED, so two runs compare.
"""
import csv
import json
import random
import sys
from urllib.parse import quote_plus

SEED = 20261123
LOCALES = ["en_US", "fr_FR", "de_DE"]
FAMILIES = ["default", "apparel", "home"]
DEPARTMENTS = 8
LEAVES = 6
BRANDS = ["Nordkap", "Alpenrot", "Blue Heron", "Côte Sauvage", "Fjällräv", "Maison Lumière",
          "Oakridge", "Sundara", "Tessellate", "Urbanista", "Vireo", "Wanderlust"]
COLORS = ["black", "white", "red", "navy", "olive", "sand", "grey", "teal", "mustard", "burgundy"]
SIZES = ["xs", "s", "m", "l", "xl", "xxl", "one_size"]
MATERIALS = ["cotton", "organic cotton", "linen", "wool", "merino", "recycled polyester",
             "oak", "walnut", "stoneware", "glass", "steel", "bamboo"]
ORIGINS = ["PT", "FR", "DE", "IT", "IN", "VN", "TR", "CN", "PL", "RO"]
NOUNS = {
    "default": ["notebook", "lamp", "backpack", "bottle", "umbrella", "wallet", "speaker", "charger"],
    "apparel": ["tee", "hoodie", "jacket", "shirt", "dress", "jeans", "scarf", "sweater"],
    "home": ["mug", "vase", "cushion", "blanket", "bowl", "chair", "candle", "towel"],
}
NOUNS_FR = {"tee": "t-shirt", "hoodie": "sweat à capuche", "jacket": "veste", "shirt": "chemise",
            "dress": "robe", "jeans": "jean", "scarf": "écharpe", "sweater": "pull",
            "mug": "tasse", "vase": "vase", "cushion": "coussin", "blanket": "plaid", "bowl": "bol",
            "chair": "chaise", "candle": "bougie", "towel": "serviette", "notebook": "carnet",
            "lamp": "lampe", "backpack": "sac à dos", "bottle": "gourde", "umbrella": "parapluie",
            "wallet": "portefeuille", "speaker": "enceinte", "charger": "chargeur"}
ADJECTIVES = ["classic", "organic", "vintage", "essential", "premium", "lightweight", "cozy",
              "rugged", "minimal", "handmade", "everyday", "coastal", "alpine", "urban", "heritage"]
ADJ_FR = {"classic": "classique", "organic": "bio", "vintage": "vintage", "essential": "essentiel",
          "premium": "premium", "lightweight": "léger", "cozy": "douillet", "rugged": "robuste",
          "minimal": "épuré", "handmade": "fait main", "everyday": "quotidien", "coastal": "côtier",
          "alpine": "alpin", "urban": "urbain", "heritage": "héritage"}
WORDS = ("soft durable breathable timeless crafted sustainable generous relaxed tailored warm "
         "smooth sturdy balanced refined practical elegant versatile washable natural bright").split()
COLUMNS = ["sku", "family", "categories", "enabled", "name-en_US", "name-fr_FR", "name-de_DE",
           "description-en_US", "description-fr_FR", "price-EUR", "price-USD", "brand", "color",
           "size", "gtin", "mpn", "material-en_US", "weight", "origin", "release_date"]


def attr(code, typ, localizable=False, validation=None, **extra):
    body = {"code": code, "type": typ, "localizable": localizable, "scopable": False,
            "labels": {"en_US": code.replace("_", " ").capitalize()}}
    if validation:
        body["validation"] = validation
    body.update(extra)
    return body


def schema():
    ops = [("/v1/locales/" + l, {"code": l}) for l in LOCALES]
    ops += [("/v1/currencies/" + c, {"code": c}) for c in ("EUR", "USD")]
    attrs = [
        attr("sku", "identifier"),
        attr("name", "text", True, {"max_length": 255}),
        attr("description", "textarea", True),
        attr("price", "price", validation={"decimals": 2, "min": "0"}),
        attr("brand", "text"),
        attr("color", "text"),
        attr("size", "text"),
        attr("gtin", "text", validation={"gtin": True}),
        attr("mpn", "text"),
        attr("material", "text", True),
        attr("weight", "number", validation={"decimals": 3, "min": "0"}),
        attr("origin", "text", validation={"max_length": 2}),
        attr("release_date", "date"),
    ]
    ops += [("/v1/attributes/" + a["code"], a) for a in attrs]
    ops.append(("/v1/categories/master", {"code": "master", "parent": None,
                                          "labels": {"en_US": "Master catalog"}}))
    for d in range(DEPARTMENTS):
        dept = f"dept_{d}"
        ops.append(("/v1/categories/" + dept, {"code": dept, "parent": "master"}))
        for leaf in range(LEAVES):
            code = f"cat_{d}_{leaf}"
            ops.append(("/v1/categories/" + code, {"code": code, "parent": dept}))
    codes = [a["code"] for a in attrs]
    required = {"default": ["name", "price"],
                "apparel": ["name", "price", "description", "size"],
                "home": ["name", "price", "description"]}
    for fam in FAMILIES:
        ops.append(("/v1/families/" + fam, {
            "code": fam, "attributes": codes, "label_attribute": "name",
            "requirements": {"web": required[fam], "print": ["name", "price"]}}))
    ops.append(("/v1/channels/web", {"code": "web", "locales": ["en_US", "fr_FR"],
                                     "currencies": ["EUR"], "category_tree": "master"}))
    return ops


def gtin13(n):
    digits = f"{400000000000 + n:012d}"
    total = sum(map(int, digits[0::2])) + 3 * sum(map(int, digits[1::2]))
    return digits + str((10 - total % 10) % 10)


_PHRASES = []


def phrase(rng):
    """One of 4,096 fixed twelve-word phrases: drawing twelve words for each of
    a million rows would cost more than everything else together."""
    if not _PHRASES:
        r = random.Random(SEED - 1)
        _PHRASES.extend(" ".join(r.choices(WORDS, k=12)) for _ in range(4096))
    return _PHRASES[rng.getrandbits(12)]


def fields(rng, i, sku):
    """One product's values as plain strings, keyed by CSV column. Draws with
    random() and index arithmetic: randrange and choice cost several times
    more, and a million rows make that count."""
    r = rng.random

    def pick(seq):
        return seq[int(r() * len(seq))]

    def below(n):
        return int(r() * n)

    fam = FAMILIES[i % 3]
    noun = pick(NOUNS[fam])
    adj = pick(ADJECTIVES)
    mat = pick(MATERIALS)
    brand = pick(BRANDS)
    cats = f"cat_{below(DEPARTMENTS)}_{below(LEAVES)}"
    if r() < 0.3:
        more = f"cat_{below(DEPARTMENTS)}_{below(LEAVES)}"
        if more != cats:
            cats += "," + more
    price = 299 + below(49700)
    words = phrase(rng)
    has_desc = r() < 0.85
    return {
        "sku": sku,
        "family": fam,
        "categories": cats,
        "enabled": "1" if r() < 0.95 else "0",
        "name-en_US": f"{brand} {adj} {mat} {noun}",
        "name-fr_FR": f"{NOUNS_FR[noun]} {ADJ_FR[adj]} {brand}",
        "name-de_DE": f"{brand} {adj.capitalize()} {noun.capitalize()}",
        "description-en_US": f"A {adj} {noun} in {mat}, {words}." if has_desc else "",
        "description-fr_FR": f"Un {NOUNS_FR[noun]} {ADJ_FR[adj]}, {words}." if has_desc else "",
        "price-EUR": f"{price // 100}.{price % 100:02d}",
        "price-USD": f"{price * 108 // 10000}.{price * 108 // 100 % 100:02d}",
        "brand": brand,
        "color": pick(COLORS),
        "size": pick(SIZES) if fam == "apparel" else "",
        "gtin": gtin13(i),
        "mpn": f"MPN-{rng.getrandbits(32):08X}",
        "material-en_US": mat,
        "weight": f"{(50 + below(24950)) / 1000:.3f}",
        "origin": pick(ORIGINS),
        "release_date": f"20{18 + below(9)}-{1 + below(12):02d}-{1 + below(28):02d}",
    }


def document(f):
    """The product document of one row, shaped as DESIGN.md shows."""
    values = {}

    def put(code, data, locale=None):
        values.setdefault(code, []).append({"locale": locale, "channel": None, "data": data})

    for col, v in f.items():
        if not v or col in ("sku", "family", "categories", "enabled"):
            continue
        code, _, suffix = col.partition("-")
        if code == "price":
            continue
        put(code, v, suffix or None)
    put("price", [{"amount": f["price-EUR"], "currency": "EUR"},
                  {"amount": f["price-USD"], "currency": "USD"}])
    return {"sku": f["sku"], "family": f["family"], "categories": f["categories"].split(","),
            "enabled": f["enabled"] == "1", "values": values}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "schema":
        for path, body in schema():
            print(path + "\t" + json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    elif cmd == "csv":
        rows, rng = int(sys.argv[2]), random.Random(SEED)
        with open(sys.argv[3], "w", newline="", encoding="utf-8") as out:
            w = csv.writer(out, lineterminator="\n")
            w.writerow(COLUMNS)
            for i in range(rows):
                f = fields(rng, i, f"SKU-{i:07d}")
                w.writerow([f[c] for c in COLUMNS])
    elif cmd == "ndjson":
        count, rng = int(sys.argv[2]), random.Random(SEED + 1)
        with open(sys.argv[3], "w", encoding="utf-8") as out:
            for i in range(count):
                doc = document(fields(rng, 5_000_000 + i, f"BATCH-{i:07d}"))
                out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    elif cmd == "product":
        f = fields(random.Random(SEED + 2), 9_000_000, sys.argv[2])
        f["family"], f["enabled"], f["size"] = "apparel", "1", "m"
        if not f["description-en_US"]:
            f["description-en_US"] = "A tee in organic cotton, soft and durable."
        print(json.dumps(document(f), ensure_ascii=False))
    elif cmd == "listings":
        rng = random.Random(SEED + 3)
        with open(sys.argv[2], "w") as out:
            for _ in range(64):
                fam = rng.choice(FAMILIES)
                cat = f"cat_{rng.randrange(DEPARTMENTS)}_{rng.randrange(LEAVES)}"
                out.write(f"/v1/products?family={fam}&category={cat}&complete=web/en_US&limit=100\n")
    elif cmd == "searches":
        rng = random.Random(SEED + 4)
        terms = ADJECTIVES + [n for ns in NOUNS.values() for n in ns] + ["coussin", "écharpe", "echarpe"]
        with open(sys.argv[2], "w") as out:
            for _ in range(64):
                q = rng.choice(terms)
                if rng.random() < 0.4:
                    q += " " + rng.choice(MATERIALS).split()[-1]
                out.write(f"/v1/products?q={quote_plus(q)}&limit=100\n")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
