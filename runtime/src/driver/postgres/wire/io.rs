//! The socket and its two buffers: backend messages are framed in place in one read buffer and
//! handed out as borrowed slices (a `DataRow`'s body is decoded where it lies, never copied),
//! frontend messages are gathered in one write buffer and sent in one write per round trip.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::Duration;

use bytes::BytesMut;

/// Bytes read from the socket at once; the buffer grows past it only for a longer message.
const READ_CHUNK: usize = 64 * 1024;

/// The largest backend message accepted (the server's own limit for one message, 1 GiB).
const MAX_MESSAGE: usize = 1 << 30;

/// A TCP or Unix-domain socket.
pub(super) enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Stream {
    /// Connect to `host:port`, or to the server's socket in the directory `host` (a path).
    pub(super) fn connect(host: &str, port: u16, timeout: Option<Duration>) -> io::Result<Self> {
        if host.starts_with('/') {
            #[cfg(unix)]
            return UnixStream::connect(format!("{host}/.s.PGSQL.{port}")).map(Stream::Unix);
            #[cfg(not(unix))]
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "Unix-domain sockets are not available on this platform",
            ));
        }
        let stream = match timeout {
            None => TcpStream::connect((host, port))?,
            Some(timeout) => {
                let mut last = None;
                let mut found = None;
                for addr in (host, port).to_socket_addrs()? {
                    match TcpStream::connect_timeout(&addr, timeout) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                match (found, last) {
                    (Some(s), _) => s,
                    (None, Some(e)) => return Err(e),
                    (None, None) => {
                        return Err(io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("no address found for {host}"),
                        ));
                    }
                }
            }
        };
        // Each round trip is one small write waiting for its answer: Nagle would hold it.
        stream.set_nodelay(true)?;
        Ok(Stream::Tcp(stream))
    }

    pub(super) fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            #[cfg(unix)]
            Stream::Unix(s) => s.set_read_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            #[cfg(unix)]
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// The socket with its buffers.
pub(super) struct Wire {
    stream: Stream,
    /// Bytes read; `rbuf[start..end]` not yet handed out.
    rbuf: Vec<u8>,
    start: usize,
    end: usize,
    /// Frontend messages gathered for the next [`Wire::send`].
    pub(super) out: BytesMut,
}

impl Wire {
    pub(super) fn new(stream: Stream) -> Self {
        Wire {
            stream,
            rbuf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            out: BytesMut::with_capacity(1024),
        }
    }

    pub(super) fn stream(&self) -> &Stream {
        &self.stream
    }

    /// Write the gathered messages and empty the write buffer (also when the write fails).
    pub(super) fn send(&mut self) -> io::Result<()> {
        let r = self.stream.write_all(&self.out);
        self.out.clear();
        r
    }

    /// The next backend message: its type byte and body, borrowed from the read buffer until
    /// the next call.
    #[inline]
    pub(super) fn next(&mut self) -> io::Result<(u8, &[u8])> {
        loop {
            let avail = self.end - self.start;
            if avail >= 5 {
                let at = self.start;
                let len = u32::from_be_bytes([
                    self.rbuf[at + 1],
                    self.rbuf[at + 2],
                    self.rbuf[at + 3],
                    self.rbuf[at + 4],
                ]) as usize;
                if !(4..=MAX_MESSAGE).contains(&len) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("a backend message of invalid length {len}"),
                    ));
                }
                let total = 1 + len;
                if avail >= total {
                    self.start += total;
                    return Ok((self.rbuf[at], &self.rbuf[at + 5..at + total]));
                }
                self.make_room(total);
            } else {
                self.make_room(5);
            }
            self.fill()?;
        }
    }

    /// Make room after `end` for a message of `total` bytes starting at `start`.
    fn make_room(&mut self, total: usize) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.start + total <= self.rbuf.len() {
            return;
        }
        // Move the partial message to the front, then grow if it still does not fit.
        self.rbuf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if total > self.rbuf.len() {
            self.rbuf.resize(total.max(READ_CHUNK), 0);
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        let n = loop {
            match self.stream.read(&mut self.rbuf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        self.end += n;
        Ok(())
    }

    /// Drop what is buffered of a message stream left mid-way (after a read timed out).
    pub(super) fn discard(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}

/// Reads a backend message's body field by field.
pub(super) struct Body<'a> {
    bytes: &'a [u8],
}

impl<'a> Body<'a> {
    #[inline]
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Body { bytes }
    }

    #[inline]
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(short());
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub(super) fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }

    #[inline]
    pub(super) fn i16(&mut self) -> io::Result<i16> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    /// A count: the protocol's Int16 counts (parameters, columns) go up to 65 535.
    #[inline]
    pub(super) fn u16(&mut self) -> io::Result<u16> {
        Ok(self.i16()? as u16)
    }

    #[inline]
    pub(super) fn i32(&mut self) -> io::Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn u32(&mut self) -> io::Result<u32> {
        Ok(self.i32()? as u32)
    }

    /// A NUL-terminated string.
    pub(super) fn cstr(&mut self) -> io::Result<&'a str> {
        let nul = self.bytes.iter().position(|b| *b == 0).ok_or_else(short)?;
        let s = self.take(nul + 1)?;
        std::str::from_utf8(&s[..nul])
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a string that is not UTF-8"))
    }

    /// A length-prefixed value (`None` for -1, `NULL`).
    #[inline]
    pub(super) fn value(&mut self) -> io::Result<Option<&'a [u8]>> {
        let len = self.i32()?;
        match usize::try_from(len) {
            Ok(len) => self.take(len).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// What is left.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.bytes
    }
}

fn short() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "a truncated backend message")
}
