/**
 * A measured figure a test reports ("[lockout] 48 guesses from 12 groups: …"). A passing run
 * keeps figures out of its output and counts them in its last line; TEST_VERBOSE=1 prints them.
 * Written with a mark that test/expected-noise.ts recognises in the main process (inside workerd
 * the environment cannot be read); plain console.log otherwise, so Node and workerd tests alike.
 */
export const FIGURE_MARK = "figure: ";

export function figure(line: string): void {
  console.log(FIGURE_MARK + line);
}
