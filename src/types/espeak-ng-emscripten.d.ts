// Types for the parts of the Emscripten build of eSpeak-NG that the espeak adapter uses.
declare module '@echogarden/espeak-ng-emscripten' {
  export interface EspeakEvent {
    type: 'word' | 'sentence' | 'mark' | 'play' | 'end' | 'msg_terminated' | 'phoneme' | 'samplerate' | string;
    /** 1-based character position in the input text. */
    text_position: number;
    word_length: number;
    /** Milliseconds from the start of the utterance. */
    audio_position: number;
    id?: number | string;
  }
  export interface EspeakVoiceInfo {
    name: string;
    identifier: string;
    languages: { priority: number; name: string }[];
  }
  export interface ESpeakNGWorker {
    list_voices(): EspeakVoiceInfo[];
    /** Returns 0 on success. */
    set_voice(name: string): number;
    set_rate(wordsPerMinute: number): void;
    get_samplerate(): number;
    /** The callback returns true to stop synthesis. */
    synthesize(text: string, callback: (samples: Int16Array, events: EspeakEvent[]) => boolean): void;
  }
  export interface EspeakModule {
    eSpeakNGWorker: new () => ESpeakNGWorker;
  }
  const init: (options?: Record<string, unknown>) => Promise<EspeakModule>;
  export default init;
}
