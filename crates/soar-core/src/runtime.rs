//! The entry point: read one request, dispatch it, write one response.

use std::io::{Read, Write};
use std::process::ExitCode;

use soar_protocol::{Request, Response};

use crate::{CommandContext, Error, Integration, IntegrationContext};

/// Runs an integration binary: one request on stdin, one response on stdout.
pub fn run(integration: impl Integration) -> ExitCode {
    let mut input = Vec::new();
    let response = match std::io::stdin().read_to_end(&mut input) {
        Ok(_) => match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt.block_on(handle_bytes(&integration, &input)),
            Err(e) => error_response(Error::Command(format!("Could not start the runtime: {e}"))),
        },
        Err(e) => {
            error_response(Error::Command(format!("Could not read the request from standard input: {e}")))
        }
    };
    let mut out = std::io::stdout().lock();
    match serde_json::to_writer(&mut out, &response).map(|_| out.write_all(b"\n")) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// Parses and runs one request given as bytes; always returns a response.
pub async fn handle_bytes(integration: &impl Integration, input: &[u8]) -> Response {
    match serde_json::from_slice::<Request>(input) {
        Ok(request) => handle(integration, request).await,
        Err(e) => {
            error_response(Error::Command(format!("The request is not valid JSON for this protocol: {e}")))
        }
    }
}

/// Runs one parsed request.
pub async fn handle(integration: &impl Integration, request: Request) -> Response {
    let commands = integration.commands();
    let Some(command) = commands.iter().find(|c| c.name() == request.command) else {
        let names: Vec<_> = commands.iter().map(|c| c.name().to_owned()).collect();
        let mut r = error_response(Error::Command(format!(
            "Unknown command: {}. This integration's commands are: {}.",
            request.command,
            names.join(", ")
        )));
        r.id = request.id;
        return r;
    };
    let mut ctx = CommandContext {
        command: request.command,
        args: request.args,
        params: request.params,
        integration_context: IntegrationContext::new(request.integration_context),
        last_run: request.last_run,
        instance: request.instance,
    };
    let outcome = command.run(&mut ctx).await;
    let mut response =
        Response { id: request.id, context_version: request.context_version, ..Response::default() };
    match outcome {
        Ok(o) => {
            response.entries = o.entries;
            response.last_run = o.last_run;
            response.incidents = o.incidents;
        }
        Err(e) => response.entries = vec![e.to_entry()],
    }
    if ctx.integration_context.changed() {
        response.integration_context = Some(ctx.integration_context.into_data());
    }
    response
}

fn error_response(e: Error) -> Response {
    Response { entries: vec![e.to_entry()], ..Response::default() }
}
