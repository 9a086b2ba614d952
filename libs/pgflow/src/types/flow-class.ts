/** A flow class: any class (its constructor takes whatever Nest injects). */
export type FlowClass<F extends object = object> = new (...args: never[]) => F;

/** A flow, as the client and the options accept it: its slug, or its class. */
export type FlowReference<F extends object = object> = string | FlowClass<F>;
