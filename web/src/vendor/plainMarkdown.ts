/**
 * Stands in for codemirror-json-schema's Markdown renderer (vite.config.ts aliases it here): that
 * one loads the Shiki highlighter (themes, grammars, about 1 MB) to colour code in hover texts. The
 * schema's descriptions are plain sentences, so their text, escaped, is what the tooltips show.
 */
export function renderMarkdown(markdown: string, inline = true): string {
  const escaped = markdown.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`([^`]+)`/g, '<code>$1</code>');
  return inline ? escaped : `<p>${escaped}</p>`;
}
