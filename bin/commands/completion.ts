/** `fusiond completion bash|zsh`: a shell completion script, made from the commands and options themselves. */
import type { Command } from "commander";
import { oneOf } from "../cli-validate.ts";

interface Words {
  commands: string[];
  options: Record<string, string[]>;
}

/** Every command and its long options, read from the program (so new commands complete without edits here). */
export function completionWords(program: Command): Words {
  const commands = program.commands.map((c) => c.name()).filter((n) => n !== "help");
  const options: Record<string, string[]> = {};
  for (const c of program.commands) options[c.name()] = [...c.options.map((o) => o.long).filter((l): l is string => Boolean(l)), "--help"];
  return { commands, options };
}

export function bashScript(w: Words): string {
  const cases = Object.entries(w.options)
    .map(([c, opts]) => `    ${c}) opts="${opts.join(" ")}" ;;`)
    .join("\n");
  return `# fusiond completion for bash. Install: fusiond completion bash > ~/.local/share/bash-completion/completions/fusiond
_fusiond() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${w.commands.join(" ")} --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _fusiond fusiond
`;
}

export function zshScript(w: Words): string {
  const cases = Object.entries(w.options)
    .map(([c, opts]) => `    ${c}) opts=(${opts.join(" ")}) ;;`)
    .join("\n");
  return `#compdef fusiond
# fusiond completion for zsh. Install: fusiond completion zsh > "\${fpath[1]}/_fusiond" (then: compinit)
_fusiond() {
  local -a commands opts
  commands=(${w.commands.join(" ")})
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "\${words[2]}" in
${cases}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- $opts
  else
    _files
  fi
}
compdef _fusiond fusiond
`;
}

export default function register(program: Command): void {
  program
    .command("completion")
    .description("print a shell completion script (bash or zsh) for fusiond's commands and options")
    .argument("<shell>", "bash or zsh", oneOf(["bash", "zsh"]))
    .addHelpText(
      "after",
      `
Examples:
  fusiond completion bash > ~/.local/share/bash-completion/completions/fusiond
  source <(fusiond completion bash)          # this shell only
  fusiond completion zsh > "\${fpath[1]}/_fusiond"`,
    )
    .action((shell: string) => {
      const words = completionWords(program);
      process.stdout.write(shell === "bash" ? bashScript(words) : zshScript(words));
    });
}
