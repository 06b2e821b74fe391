"""What a browser test reads off a page: the visible text and its size."""

# Every visible element's own text (direct text nodes) and its computed font size, SVG text included.
TEXT_SIZES = """() => {
  const found = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent).join('').trim();
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    found.push({ tag: el.tagName, cls: String(el.className?.baseVal ?? el.className), text: own.slice(0, 40),
      px: parseFloat(style.fontSize) });
  }
  return found;
}"""
