//! `walletd`: see `walletd --help`.

/// mimalloc instead of glibc's allocator: a request allocates many small, short-lived buffers
/// (headers, JSON, rows), and under load glibc's `malloc`/`free` took about 10 % of the server's
/// CPU on the SQLite benchmark, mimalloc's about 3 % (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    walletd::cli::main()
}
