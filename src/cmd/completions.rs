//! `linres completions`: a shell completion script on stdout.

use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;
use super::out::out;

#[derive(Args)]
#[command(
    about = "Print a shell completion script (bash, zsh, fish, elvish or powershell)",
    after_help = "Install, e.g.:\n  linres completions bash > ~/.local/share/bash-completion/completions/linres\n  \
linres completions zsh > ~/.zfunc/_linres      (with `fpath+=~/.zfunc` before `compinit`)\n  \
linres completions fish > ~/.config/fish/completions/linres.fish"
)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "linres", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(ExitCode::SUCCESS)
}
