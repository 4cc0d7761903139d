"""Test certificates made with `cryptography`: a CA, leaves and client certificates signed by
it, certificate revocation lists, PEM helpers."""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)

_KEYS = {}


def key(kind="rsa2048", fresh=False, slot="ca"):
    """A private key, cached per slot and kind (RSA generation is slow) unless `fresh`."""
    if (slot, kind) in _KEYS and not fresh:
        return _KEYS[(slot, kind)]
    if kind.startswith("rsa"):
        made = rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    elif kind == "p256":
        made = ec.generate_private_key(ec.SECP256R1())
    elif kind == "p384":
        made = ec.generate_private_key(ec.SECP384R1())
    elif kind == "ed25519":
        made = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(kind)
    if not fresh:
        _KEYS[(slot, kind)] = made
    return made


def name(cn, org=None):
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


class Pair:
    """A certificate and its private key."""

    def __init__(self, cert, private_key):
        self.cert = cert
        self.key = private_key

    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def cert_der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    def key_pem(self, fmt="pkcs8", password=None):
        encoding = {
            "pkcs8": serialization.PrivateFormat.PKCS8,
            "traditional": serialization.PrivateFormat.TraditionalOpenSSL,
        }[fmt]
        encryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return self.key.private_bytes(serialization.Encoding.PEM, encoding, encryption)

    def serial(self):
        raw = self.cert.serial_number.to_bytes((self.cert.serial_number.bit_length() + 8) // 8, "big")
        return raw


# Every keyUsage flag, in the order of x509.KeyUsage's arguments.
KEY_USAGE_FLAGS = (
    "digital_signature content_commitment key_encipherment data_encipherment key_agreement"
    " key_cert_sign crl_sign encipher_only decipher_only"
).split()


def key_usages(**granted):
    """A keyUsage extension value with the `granted` flags; every other flag is off."""
    return x509.KeyUsage(**(dict.fromkeys(KEY_USAGE_FLAGS, False) | granted))


def builder(subject, issuer_name, private_key, not_before, not_after, serial=None):
    """A certificate builder for `private_key`'s public key with `serial` (default: random)."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(private_key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def ca(cn="Test Root CA", org=None, kind="rsa2048", issuer=None):
    """A CA certificate, self-signed unless `issuer` (a Pair) signs it."""
    private_key = key(kind, fresh=issuer is not None)
    subject = name(cn, org)
    issuer_name = issuer.cert.subject if issuer else subject
    cert = (
        builder(subject, issuer_name, private_key, NOW - DAY, NOW + 365 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(key_usages(digital_signature=True, key_cert_sign=True, crl_sign=True), critical=True)
    )
    signer = issuer.key if issuer else private_key
    return Pair(cert.sign(signer, hashes.SHA256()), private_key)


def leaf(
    issuer,
    cn="vpn.example.com",
    sans=("vpn.example.com",),
    kind="rsa2048",
    server=True,
    not_before=None,
    not_after=None,
    key_usage=True,
    fresh_key=False,
):
    """A leaf signed by `issuer` (a Pair), with serverAuth (or clientAuth) EKU."""
    private_key = key(kind, fresh=fresh_key, slot="leaf")
    purpose = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    cert = builder(
        name(cn), issuer.cert.subject, private_key, not_before or NOW - DAY, not_after or NOW + 90 * DAY
    ).add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
    if sans:
        cert = cert.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    if key_usage:
        usage = key_usages(digital_signature=True, key_encipherment=kind.startswith("rsa"))
        cert = cert.add_extension(usage, critical=True)
    return Pair(cert.sign(issuer.key, hashes.SHA256()), private_key)


def colon_hex(raw):
    return ":".join("%02x" % b for b in raw)


def client(issuer, cn="alice", serial=None, subject=None, not_before=None, not_after=None):
    """A client certificate (fresh EC P-256 key, clientAuth) signed by `issuer` (a Pair)."""
    private_key = key("p256", fresh=True)
    cert = (
        builder(
            subject if subject is not None else name(cn),
            issuer.cert.subject,
            private_key,
            not_before or NOW - DAY,
            not_after or NOW + 90 * DAY,
            serial,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(key_usages(digital_signature=True), critical=True)
    )
    return Pair(cert.sign(issuer.key, hashes.SHA256()), private_key)


def crl(issuer, serials=(), last_update=None, next_update=None):
    """A CRL (PEM bytes) revoking `serials`, signed by `issuer` (a Pair); next update in 30 days."""
    last_update = last_update or NOW - DAY
    revoked = [
        x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(last_update).build() for serial in serials
    ]
    # Passing the whole list at once: adding 20,000 entries one by one copies the list each time.
    built = x509.CertificateRevocationListBuilder(
        issuer_name=issuer.cert.subject,
        last_update=last_update,
        next_update=next_update or NOW + 30 * DAY,
        revoked_certificates=revoked,
    )
    return built.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
