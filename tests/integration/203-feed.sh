#!/usr/bin/env bash
# GET /v1/channels/{channel}/feed.xml: a Google Merchant RSS 2.0 feed of the
# channel's published products that meets the specification's required
# attributes, with absolute links and rendition URLs; well-formed when empty.
source "$(dirname "$0")/lib.sh"
start_pimd

req GET "$PIM/v1/channels/web/feed.xml"
check "empty channel: 200" code_is 200
check "empty channel: well-formed XML" xmllint --noout "$TMP/body"
check "RSS 2.0 with the g: namespace" grep -q '<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">' "$TMP/body"
req GET "$PIM/v1/channels/nosuch/feed.xml"; check "unknown channel: 404" code_is 404
req GET "$PIM/v1/channels/web/feed.xml?locale=xx_XX"; check "locale outside the channel: 400" code_is 400

img=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
reqj PUT "$PIM/v1/products/FEED-1" '{"sku":"FEED-1","family":"default","enabled":true,"values":{
 "name":[{"locale":"en_US","channel":null,"data":"Organic tee <limited> & co"},{"locale":"fr_FR","channel":null,"data":"T-shirt bio"}],
 "description":[{"locale":"en_US","channel":null,"data":"Soft cotton."}],
 "price":[{"locale":null,"channel":null,"data":[{"amount":"19.90","currency":"EUR"}]}],
 "sale_price":[{"locale":null,"channel":null,"data":[{"amount":"15.00","currency":"EUR"}]}],
 "images":[{"locale":null,"channel":null,"data":["'$img'"]}],
 "brand":[{"locale":null,"channel":null,"data":"Nordkap"}],
 "gtin":[{"locale":null,"channel":null,"data":"4006381333931"}],
 "availability":[{"locale":null,"channel":null,"data":"preorder"}]}}'
check "published product stored" code_is 201
reqj PUT "$PIM/v1/products/FEED-2" '{"sku":"FEED-2","family":"default","enabled":true,"values":{
 "name":[{"locale":"en_US","channel":null,"data":"Mug"}],
 "price":[{"locale":null,"channel":null,"data":[{"amount":"9.00","currency":"EUR"}]}],
 "image_link":[{"locale":null,"channel":null,"data":"https://cdn.example.com/mug.jpg"}],
 "link":[{"locale":null,"channel":null,"data":"https://shop.example.com/mug"}]}}'
reqj PUT "$PIM/v1/products/FEED-3" '{"sku":"FEED-3","family":"default","enabled":true,"values":{
 "name":[{"locale":"en_US","channel":null,"data":"No picture"}],
 "price":[{"locale":null,"channel":null,"data":[{"amount":"5.00","currency":"EUR"}]}]}}'
reqj PUT "$PIM/v1/products/FEED-4" '{"sku":"FEED-4","family":"default","enabled":false,"values":{
 "name":[{"locale":"en_US","channel":null,"data":"Disabled"}],
 "price":[{"locale":null,"channel":null,"data":[{"amount":"5.00","currency":"EUR"}]}],
 "image_link":[{"locale":null,"channel":null,"data":"https://cdn.example.com/x.jpg"}]}}'

req GET "$PIM/v1/channels/web/feed.xml?locale=en_US"
check "feed: 200" code_is 200
check "feed: well-formed" xmllint --noout "$TMP/body"
cp "$TMP/body" "$TMP/feed.xml"
# The specification's rules: required attributes, absolute URLs, price as "amount CUR".
python3 - "$TMP/feed.xml" >"$TMP/rules" <<'PY'
import re, sys, xml.etree.ElementTree as ET
G = "{http://base.google.com/ns/1.0}"
items = ET.parse(sys.argv[1]).getroot().findall("./channel/item")
bad = []
for it in items:
    f = lambda k: (it.findtext(G + k) or "").strip()
    for k in ("id", "title", "description", "link", "image_link", "availability", "price"):
        if not f(k): bad.append("%s lacks %s" % (f("id"), k))
    for k in ("link", "image_link"):
        if not re.match(r"^https?://[^/]+/", f(k)): bad.append("%s %s not absolute" % (f("id"), k))
    if not re.match(r"^\d+(\.\d+)? [A-Z]{3}$", f("price")): bad.append("price " + f("price"))
    if f("availability") not in ("in_stock", "out_of_stock", "preorder", "backorder"): bad.append("availability")
    if f("condition") not in ("new", "refurbished", "used"): bad.append("condition")
    if not (f("gtin") or f("mpn") or f("identifier_exists") == "no"): bad.append("identifiers")
    if len(f("title")) > 150 or len(f("description")) > 5000: bad.append("length")
print(len(items)); print("\n".join(bad))
PY
check "feed: the published products with pictures are items" is "$(head -1 "$TMP/rules")" 2
check "feed: every required attribute, absolute URLs, prices as 'amount CUR'" is "$(tail -n +2 "$TMP/rules")" ""
check "feed: rendition URL for the asset" grep -qE "<g:image_link>http://127.0.0.1:[0-9]*/v1/renditions/$img/web-large\\?v=[0-9a-f]{8}</g:image_link>" "$TMP/feed.xml"
check "feed: markup in values escaped" grep -q '<g:title>Organic tee &lt;limited&gt; &amp; co</g:title>' "$TMP/feed.xml"
check "feed: sale price and availability" grep -q '<g:sale_price>15.00 EUR</g:sale_price>' "$TMP/feed.xml"
check "feed: the product's own link kept" grep -q '<g:link>https://shop.example.com/mug</g:link>' "$TMP/feed.xml"
check "feed: a product without a picture is left out and counted" grep -q '1 published products left out' "$TMP/feed.xml"
check "feed: disabled products are not offered" bash -c "! grep -q FEED-4 '$TMP/feed.xml'"
req GET "$PIM/v1/channels/web/feed.xml?locale=fr_FR"
check "feed in fr_FR: localized title" grep -q '<g:title>T-shirt bio</g:title>' "$TMP/body"
