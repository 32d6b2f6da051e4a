//! The `pipeleash` binary: parses the command line and hands over to [`pipeleash::cli`].

fn main() -> std::process::ExitCode {
    pipeleash::cli::main()
}
