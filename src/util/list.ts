/** `"a, b,,c"` → `["a", "b", "c"]`: a comma-separated setting as its trimmed, non-empty items. */
export const list = (v: string | undefined): string[] => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
