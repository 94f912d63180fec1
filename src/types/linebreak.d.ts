/** Types for linebreak (UAX #14 line break opportunities), which ships none. */
declare module 'linebreak' {
  export interface Break {
    /** Offset (UTF-16) in the string where a line may, or must, begin. */
    position: number;
    /** True for a mandatory break (a newline), false for an opportunity. */
    required: boolean;
  }
  export default class LineBreaker {
    constructor(text: string);
    nextBreak(): Break | null;
  }
}
