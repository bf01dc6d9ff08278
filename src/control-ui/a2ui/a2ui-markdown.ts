/**
 * A small markdown renderer for A2UI `Text` (the renderer's optional `@a2ui/markdown-it`
 * peer is not shipped). The renderer inserts the returned HTML unescaped, so safety comes
 * first: the whole input is HTML-escaped, then only a fixed set of tags is produced
 * (h1–h5, p, strong, em, code, ul/li). No links, images or attributes other than `class`
 * from the theme's tag class map, whose names are escaped too.
 */
import type { Types } from "@a2ui/lit/v0_8";

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function open(tag: string, classes: Types.MarkdownRendererTagClassMap | undefined): string {
  const list = classes?.[tag] ?? [];
  return list.length ? `<${tag} class="${escapeHtml(list.join(" "))}">` : `<${tag}>`;
}

function inline(escaped: string, classes: Types.MarkdownRendererTagClassMap | undefined): string {
  return escaped
    .replace(/`([^`]+)`/g, (_m, c: string) => `<code>${c}</code>`)
    .replace(/\*\*([^*]+)\*\*/g, (_m, t: string) => `${open("strong", classes)}${t}</strong>`)
    .replace(/\*([^*]+)\*/g, (_m, t: string) => `${open("em", classes)}${t}</em>`);
}

/** Renders `markdown` to HTML made only of safe tags. */
export const renderMarkdown: Types.MarkdownRenderer = (markdown, options) => {
  const classes = options?.tagClassMap;
  const out: string[] = [];
  let list: string[] = [];
  const flushList = () => {
    if (list.length) out.push(`${open("ul", classes)}${list.map((i) => `${open("li", classes)}${i}</li>`).join("")}</ul>`);
    list = [];
  };
  for (const block of escapeHtml(markdown).split(/\n{2,}/)) {
    for (const line of block.split("\n")) {
      const heading = /^(#{1,5})\s+(.*)$/.exec(line);
      const item = /^[-*]\s+(.*)$/.exec(line);
      if (item) {
        list.push(inline(item[1] as string, classes));
        continue;
      }
      flushList();
      if (heading) {
        const tag = `h${(heading[1] as string).length}`;
        out.push(`${open(tag, classes)}${inline(heading[2] as string, classes)}</${tag}>`);
      } else if (line.trim() !== "") {
        out.push(`${open("p", classes)}${inline(line, classes)}</p>`);
      }
    }
    flushList();
  }
  return Promise.resolve(out.join(""));
};
