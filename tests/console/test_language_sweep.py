"""Every view in English shows no Swedish-only label, and in Swedish no English-only one.

The word lists are the console's own dictionaries (console/js/i18n/sv.js and en.js): a visible text that matches a
text of the other language (placeholders standing for any value) where that text differs from this language's,
and matches none of this language's texts, is a label left untranslated (or a "sv / en" double). Text marked with
another ``lang`` (the language toggle, the frozen Swedish report) is not counted. Also: an element with the
``hidden`` attribute is never displayed, and the sign-in page shows neither "Logga ut" nor an empty connection pill.
"""

from __future__ import annotations

from typing import Any

import pytest
from hc_testkit import Pipeline, event
from page_poll import until

from hypercare.contract.events import new_id

UNIT = "SE2321000131-ENHBORCEN"
ADMIN = "SE2321000131-FNH"
ED = "SE2321000131-ESASBORAKM"

# Visible text (text nodes, placeholders of visible fields, options of visible selects) in the page's language, and
# the texts in it that belong to the other language only.
FOREIGN_TEXTS = """async (lang) => {
  const { sv } = await import('/console/js/i18n/sv.js');
  const { en } = await import('/console/js/i18n/en.js');
  const mine = lang === 'sv' ? sv : en;
  const other = lang === 'sv' ? en : sv;
  const escape = (text) => text.replace(/[.*+?^${}()|[\\]\\\\]/g, '\\\\$&');
  const pattern = (text) => new RegExp('^' + text.split(/\\{\\w+\\}/).map(escape).join('.+?') + '$', 's');
  const letters = (text) => text.replace(/\\{\\w+\\}/g, '').replace(/[^\\p{L}]/gu, '').length;
  const own = Object.values(mine).map(pattern);
  const foreign = Object.entries(other)
    .filter(([key, text]) => text !== mine[key] && letters(text) >= 3)
    .map(([key, text]) => [key, pattern(text)]);
  const visible = (el) => {
    if (!el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none';
  };
  const otherLanguage = (el) => {
    const marked = el.closest('[lang]');
    return marked && marked !== document.documentElement && marked.lang !== lang;
  };
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, template') || !visible(el) || otherLanguage(el)) continue;
    texts.push(node.textContent);
  }
  for (const el of document.querySelectorAll('[placeholder]')) {
    if (visible(el) && !otherLanguage(el)) texts.push(el.placeholder);
  }
  for (const select of document.querySelectorAll('select')) {
    if (!visible(select) || otherLanguage(select)) continue;
    for (const option of select.options) texts.push(option.textContent);
  }
  const found = [];
  let checked = 0;
  for (const raw of texts) {
    const text = raw.replace(/[\\s\\u00a0\\u202f]+/g, ' ').trim();
    if (!text) continue;
    checked += 1;
    if (own.some((re) => re.test(text))) continue;
    const hit = foreign.find(([, re]) => re.test(text));
    if (hit) found.push(`${hit[0]}: ${text.slice(0, 80)}`);
  }
  return { found: [...new Set(found)], checked };
}"""

LOADING = """() => !/Laddar…|Loading…|Hämtar|Fetching/.test(document.body.innerText)"""

# Every element with the hidden attribute that is displayed anyway (a class setting display over it).
SHOWN_HIDDEN = """() => [...document.querySelectorAll('[hidden]')].filter((el) => el.getClientRects().length)
  .map((el) => el.outerHTML.slice(0, 80))"""

ROUTES = [
    ("console", "#/console"),
    ("console", f"#/console/administration/{ADMIN}"),
    ("console", f"#/console/unit/{UNIT}"),
    ("console", f"#/console/unit/{ED}"),
    ("coordination", "#/coordination"),
    ("readiness", "#/readiness"),
    ("decisions", "#/decisions"),
    ("report", "#/report"),
    ("audit", "#/audit"),
    ("agent", "#/agent"),
    ("tablet", "#/tablet"),
    ("tablet", f"#/tablet/{UNIT}"),
]


@pytest.fixture(scope="module")
async def data(pipeline: Pipeline) -> None:
    """A red unit with alarms, tickets in categories, permission denials by role, a diversion and a decision."""
    events = [
        *[
            event(
                "access.login",
                UNIT,
                user_ref=new_id("u"),
                **({"outcome": "failure", "reason": "card_error"} if i % 2 else {"outcome": "success"}),
            )
            for i in range(24)
        ],
        *[
            event("access.permission_denied", UNIT, user_ref=new_id("u"), role=role, module="orders")
            for role in ("lakare", "sjukskoterska", "underskoterska")
        ],
        *[
            event("ticket.opened", UNIT, ticket_id=new_id("K"), channel="phone", category=category, priority=2)
            for category in ("login", "printing", "medication")
        ],
        event(
            "ed.diversion_started",
            ED,
            diversion_id=new_id("div"),
            to_unit_ids=["SE2321000131-ESASSKEAKM"],
            scope="ambulance",
            reason="Fullt på akuten",
        ),
        event("decision.recorded", ADMIN, decision_id=new_id("d"), title="Extra bemanning", decision="Två extra FW"),
    ]
    response = await pipeline.post_events(events, role="chief")
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == [], response.text
    await pipeline.wait_for("/api/v1/situation", lambda s: bool(s["region"]["ed"]["active_diversions"]), timeout=60)
    await pipeline.wait_for(
        "/api/v1/alerts?status=active", lambda body: any(a["node_id"] == UNIT for a in body["items"]), timeout=60
    )


async def walk(page: Any, lang: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for view, route in ROUTES:
        await page.goto(f"/console/{route}")
        await page.locator(f"body[data-view={view}]").wait_for(timeout=15000)
        await until(page, LOADING, timeout=15)
        await page.wait_for_timeout(400)
        result = await page.evaluate(FOREIGN_TEXTS, lang)
        assert result["checked"] > 10, (route, result)
        shown_hidden = await page.evaluate(SHOWN_HIDDEN)
        if result["found"] or shown_hidden:
            problems[route] = result["found"] + [f"[hidden] shown: {html}" for html in shown_hidden]
        if route == f"#/console/unit/{UNIT}":
            # Role and category codes as words: "lakare" is "Läkare" / "Physician", "printing" "Utskrift" / "Printing".
            details = await page.locator(".unit-details").inner_text()
            words = {"sv": ("Läkare", "Sjuksköterska", "Utskrift"), "en": ("Physician", "Nurse", "Printing")}[lang]
            assert all(word in details for word in words), details
            assert "lakare" not in details and "sjukskoterska" not in details
        if route == "#/console":
            # The diversion form, opened over the overview.
            await page.locator("button[data-action=declare-diversion]").click()
            await page.locator("dialog[open] form").wait_for(timeout=5000)
            found = (await page.evaluate(FOREIGN_TEXTS, lang))["found"]
            if found:
                problems[f"{route} (diversion form)"] = found
            await page.keyboard.press("Escape")
    return problems


@pytest.mark.parametrize("lang", ["en", "sv"])
async def test_every_view_speaks_one_language(open_page: Any, data: None, lang: str) -> None:
    page = await open_page("admin", "#/console", lang=lang)
    assert await walk(page, lang) == {}


async def test_sign_in_page_has_no_sign_out_and_no_empty_pill(open_page: Any, data: None) -> None:
    page = await open_page("admin", "#/console")
    await page.locator("#signout").click()
    await page.locator("body[data-view=signin]").wait_for(timeout=10000)
    assert not await page.locator("#signout").is_visible()
    assert not await page.locator("#conn").is_visible()
    assert "Logga ut" not in await page.locator("body").inner_text()
    assert await page.evaluate(SHOWN_HIDDEN) == []
    result = await page.evaluate(FOREIGN_TEXTS, "sv")
    assert result["found"] == []
