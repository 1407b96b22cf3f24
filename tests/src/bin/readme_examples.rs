//! The programs of the READMEs (`README.md`, `client/README.md`), exactly as written there,
//! compiled by `tests/build.rs`: `README_EXAMPLE=N readme-examples ARGS…` runs program `N`
//! (from 1) with `ARGS` as its own arguments (the number is not an argument, so a program sees
//! the command line its README shows); without `README_EXAMPLE` it lists them.
//! `suite::readme_examples` runs each against the local server.

include!(concat!(env!("OUT_DIR"), "/readme_examples.rs"));

fn main() -> std::process::ExitCode {
    let Ok(number) = std::env::var("README_EXAMPLE") else {
        for (n, (origin, _)) in EXAMPLES.iter().enumerate() {
            println!("{} {origin}", n + 1);
        }
        return std::process::ExitCode::SUCCESS;
    };
    let Some((origin, run)) = number
        .parse::<usize>()
        .ok()
        .and_then(|n| EXAMPLES.get(n.checked_sub(1)?))
    else {
        eprintln!("no program {number:?}: there are {}", EXAMPLES.len());
        return std::process::ExitCode::from(2);
    };
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{origin}: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
