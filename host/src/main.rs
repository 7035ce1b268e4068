//! The `psahost` command.

fn main() -> std::process::ExitCode {
    psahost::cli::main()
}
