//! The muslcheck binary: parse arguments, set up logging, run, map the result to an exit code.

use clap::Parser;

fn main() {
    let cli = muslcheck::cli::Cli::parse();
    let code = muslcheck::execute(cli);
    std::process::exit(code);
}
