/** Characters of shell syntax the sandbox refuses in a package.json script: it runs scripts without a shell. */
export const SHELL_SYNTAX = /[|&;<>`$(){}]/;
