/** Exit codes: 0 ok, 1 runtime failure, 2 usage error. */
export const EXIT_USAGE = 2;
