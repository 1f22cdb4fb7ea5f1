//! `walletd`: see `walletd --help`.

fn main() -> std::process::ExitCode {
    walletd::cli::main()
}
