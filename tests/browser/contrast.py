"""Contrast ratios computed in the page from the styles in force (WCAG 2 relative luminance).

Colours are resolved by painting them on a canvas, so every CSS colour syntax (rgb(), color(srgb …),
color-mix() results) is read the same way; translucent backgrounds are blended over their ancestors'.
"""

from __future__ import annotations

from typing import Any

CONTRAST_JS = """(element) => {
  const ctx = Object.assign(document.createElement('canvas'), {width: 1, height: 1}).getContext('2d');
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000'; ctx.fillStyle = css; ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const layers = [];
  for (let node = element; node; node = node.parentElement) {
    const bg = rgba(getComputedStyle(node).backgroundColor);
    if (bg[3] > 0) layers.push(bg);
    if (bg[3] >= 1) break;
  }
  let background = [255, 255, 255, 1];
  for (const layer of layers.reverse()) background = over(layer, background);
  const style = getComputedStyle(element);
  const foreground = over(rgba(style.color), background);
  const lum = (c) => {
    const linear = (v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
    const [r, g, b] = c.slice(0, 3).map(linear);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [l1, l2] = [lum(foreground), lum(background)].sort((a, b) => b - a);
  return { ratio: (l1 + 0.05) / (l2 + 0.05), fontSize: parseFloat(style.fontSize), text: element.textContent.trim() };
}"""


def contrast(locator: Any) -> dict[str, Any]:
    """{"ratio", "fontSize", "text"} of an element's text against its effective background."""
    return locator.evaluate(CONTRAST_JS)
