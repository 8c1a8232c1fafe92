#!/bin/sh
# Generates the TLS tests' certificates into directory $1 (created if
# missing), all ECDSA P-256, valid for a day unless said otherwise:
#   ca.pem ca.key               the CA the tests trust
#   server.pem server.key       for localhost, 127.0.0.1 and ::1, signed by ca
#   server2.pem server2.key     the same names, another key (certificate reload)
#   server-enc.key              server.key encrypted with the password "secret"
#   expired.pem expired.key     signed by ca, expired yesterday
#   other-ca.pem                a CA nobody trusts; other.pem other.key signed by it
#   client.pem client.key       a client certificate signed by ca (mutual TLS)
# Never committed: certificates are made at test time. Needs openssl.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
quiet() { "$@" >/dev/null 2>openssl.log || { cat openssl.log >&2; exit 1; }; }
key() { quiet openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
ca() { # name subject
  key "$1.key"
  quiet openssl req -new -x509 -key "$1.key" -subj "/CN=$2" -days 2 -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # name subject ca days extension
  key "$1.key"
  quiet openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  printf '%s\n' "$5" > "$1.ext"
  quiet openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days "$4" \
    -extfile "$1.ext" -out "$1.pem"
  rm -f "$1.csr" "$1.ext"
}
server_ext='subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth'
ca ca "coronet test CA"
ca other-ca "untrusted test CA"
leaf server localhost ca 1 "$server_ext"
leaf server2 localhost ca 1 "$server_ext"
leaf expired localhost ca -1 "$server_ext"
leaf other localhost other-ca 1 "$server_ext"
leaf client "coronet test client" ca 1 "extendedKeyUsage=clientAuth"
quiet openssl pkey -in server.key -aes256 -passout pass:secret -out server-enc.key
rm -f openssl.log ./*.srl
