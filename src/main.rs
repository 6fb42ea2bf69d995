use std::process::ExitCode;

fn main() -> ExitCode {
    match tollgate::cli::run() {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if tollgate::cli::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("tollgate: error: {}", tollgate::cli::error_message(&err));
            ExitCode::from(2)
        }
    }
}
