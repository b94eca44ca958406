//! Startup and authentication: trust, cleartext password, MD5, SCRAM-SHA-256 (without channel
//! binding, which needs TLS).

use std::io;

use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};
use postgres_protocol::message::frontend;

use super::io::{Body, Wire};
use super::{Failure, server_error};

/// Who connects, to what.
pub(super) struct Login<'a> {
    pub(super) user: &'a str,
    pub(super) password: Option<&'a str>,
    pub(super) database: Option<&'a str>,
    pub(super) application_name: Option<&'a str>,
    pub(super) options: Option<&'a str>,
}

/// Send the startup message and answer the server's authentication requests until it is
/// ready for queries; the transaction status of that first ReadyForQuery.
pub(super) fn startup(wire: &mut Wire, login: &Login<'_>) -> Result<u8, Failure> {
    let mut params = vec![("user", login.user), ("client_encoding", "UTF8")];
    if let Some(db) = login.database {
        params.push(("database", db));
    }
    if let Some(name) = login.application_name {
        params.push(("application_name", name));
    }
    if let Some(options) = login.options {
        params.push(("options", options));
    }
    frontend::startup_message(params, &mut wire.out)?;
    wire.send()?;
    let mut scram: Option<ScramSha256> = None;
    loop {
        let (tag, body) = wire.next()?;
        match tag {
            b'R' => {
                let mut body = Body::new(body);
                match body.i32()? {
                    0 => {}
                    3 => {
                        let password = need_password(login)?;
                        frontend::password_message(password.as_bytes(), &mut wire.out)?;
                        wire.send()?;
                    }
                    5 => {
                        let password = need_password(login)?;
                        let salt = body.rest();
                        let salt: [u8; 4] = salt.try_into().map_err(|_| {
                            Failure::Protocol("an MD5 request without a 4-byte salt".into())
                        })?;
                        let hash = md5_hash(login.user.as_bytes(), password.as_bytes(), salt);
                        frontend::password_message(hash.as_bytes(), &mut wire.out)?;
                        wire.send()?;
                    }
                    10 => {
                        let password = need_password(login)?;
                        let mut offered = Vec::new();
                        loop {
                            let mechanism = body.cstr()?;
                            if mechanism.is_empty() {
                                break;
                            }
                            offered.push(mechanism.to_owned());
                        }
                        if !offered.iter().any(|m| m == SCRAM_SHA_256) {
                            return Err(Failure::Refused(format!(
                                "the server offers SASL mechanisms {} and quarry's wire driver \
                                 speaks only {SCRAM_SHA_256} (channel binding needs TLS)",
                                offered.join(", ")
                            )));
                        }
                        let s =
                            ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
                        frontend::sasl_initial_response(SCRAM_SHA_256, s.message(), &mut wire.out)?;
                        wire.send()?;
                        scram = Some(s);
                    }
                    11 => {
                        let s = scram.as_mut().ok_or_else(|| {
                            Failure::Protocol("a SASL continue without a SASL start".into())
                        })?;
                        s.update(body.rest())?;
                        frontend::sasl_response(s.message(), &mut wire.out)?;
                        wire.send()?;
                    }
                    12 => {
                        let s = scram.as_mut().ok_or_else(|| {
                            Failure::Protocol("a SASL final without a SASL start".into())
                        })?;
                        // Checks the server's signature: a server that does not know the
                        // password cannot pass for the real one.
                        s.finish(body.rest())?;
                    }
                    other => {
                        return Err(Failure::Refused(format!(
                            "the server asks for authentication method {other} (GSSAPI, SSPI \
                             or Kerberos), which quarry's wire driver does not speak"
                        )));
                    }
                }
            }
            b'E' => return Err(server_error(body)?),
            b'Z' => return Body::new(body).u8().map_err(Failure::from),
            // BackendKeyData, ParameterStatus, NoticeResponse.
            b'K' | b'S' | b'N' => {}
            other => {
                return Err(Failure::Protocol(format!(
                    "unexpected message {:?} during startup",
                    char::from(other)
                )));
            }
        }
    }
}

fn need_password<'a>(login: &Login<'a>) -> Result<&'a str, Failure> {
    login.password.ok_or_else(|| {
        Failure::Refused(format!(
            "the server asks a password for user {:?} and the URL has none",
            login.user
        ))
    })
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}
