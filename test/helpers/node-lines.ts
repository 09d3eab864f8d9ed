/**
 * CI runs the suite on every maintained Node line. Type checks (tsc over consumer projects and the
 * documents' programs, Are The Types Wrong) give the same result on every line, as TypeScript does
 * not depend on the Node that runs it: `.ci/run` sets this variable on all lines but the first,
 * and those tests then only emit (`tsc --noCheck`) and run what they compiled. `npm test` alone
 * checks everything.
 */
export const TYPES_CHECKED_ON_ANOTHER_LINE = process.env.API_LOGGING_TYPES_CHECKED === '1'

export const TYPES_SKIP_REASON = 'type checks give the same result on every Node line; they ran on the first one (API_LOGGING_TYPES_CHECKED=1)'
