"""Download, verify and extract dataset files (``torchvision.datasets.utils``).

Mirrors: every downloading dataset lists its URL prefixes in a class attribute
(``MNIST.mirrors``, ``CIFAR10.mirrors``). The environment variable
``EMBER_DATASETS_MIRRORS`` (URL prefixes separated by commas or spaces) replaces them
for all datasets; ``{name}`` in a prefix becomes the dataset's class name, e.g.
``EMBER_DATASETS_MIRRORS=http://127.0.0.1:8000/{name}/raw/``.
"""
import bz2
import gzip
import hashlib
import lzma
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile

from tqdm.auto import tqdm

USER_AGENT = "ember/vision"
MIRRORS_ENV = "EMBER_DATASETS_MIRRORS"
TIMEOUT = 60.0  # seconds without an answer before a download gives up


def mirror_urls(mirrors, name, filename):
    """The URLs to try for ``filename``: the environment's prefixes if set, else ``mirrors``."""
    env = os.environ.get(MIRRORS_ENV, "").replace(",", " ").split()
    return [prefix.replace("{name}", name) + filename for prefix in (env or mirrors)]


def calculate_md5(fpath, chunk_size=1024 * 1024):
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5, **kwargs):
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """The file exists and, when ``md5`` is given, has that MD5."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def _urlretrieve(url, filename, chunk_size=1024 * 32, timeout=TIMEOUT):
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    part = filename + ".part"
    with urllib.request.urlopen(request, timeout=timeout) as response:
        with open(part, "wb") as fh, tqdm(total=response.length, unit="B", unit_scale=True,
                                          desc=os.path.basename(filename)) as pbar:
            while chunk := response.read(chunk_size):
                fh.write(chunk)
                pbar.update(len(chunk))
    os.replace(part, filename)


def download_url(url, root, filename=None, md5=None, timeout=TIMEOUT):
    """Download ``url`` into ``root/filename`` with a progress bar, unless a file with
    the right MD5 is already there. Network failures raise ``urllib.error.URLError``
    (or ``OSError``); a wrong checksum raises ``RuntimeError``."""
    root = os.path.expanduser(root)
    filename = filename or os.path.basename(url)
    fpath = os.fspath(os.path.join(root, filename))
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    try:
        _urlretrieve(url, fpath, timeout=timeout)
    finally:
        if os.path.exists(fpath + ".part"):
            os.remove(fpath + ".part")
    if not check_integrity(fpath, md5):
        raise RuntimeError(f"File {fpath} downloaded from {url} is corrupted: its MD5 is "
                           f"{calculate_md5(fpath)}, expected {md5}.")


def download_from_mirrors(urls, root, filename, md5=None, timeout=TIMEOUT):
    """Try each URL in turn; a RuntimeError naming every URL and its error if all fail."""
    if check_integrity(os.path.join(root, filename), md5):
        return
    errors = []
    for url in urls:
        try:
            download_url(url, root, filename, md5, timeout=timeout)
            return
        except (urllib.error.URLError, OSError, RuntimeError) as e:
            errors.append(f"  {url}: {e}")
    raise RuntimeError(f"Error downloading {filename} (are you offline? Put the file in {root} "
                       "or set " + MIRRORS_ENV + " to a reachable mirror):\n" + "\n".join(errors))


_COMPRESSIONS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _archive_kind(path):
    p = path.lower()
    if p.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar")):
        return "tar"
    if p.endswith(".zip"):
        return "zip"
    for suffix in _COMPRESSIONS:
        if p.endswith(suffix):
            return suffix
    raise RuntimeError(f"Archive type of {path} is not supported (tar[.gz|.bz2|.xz], zip, gz, bz2, xz are).")


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Extract an archive (a single-file ``.gz``/``.bz2``/``.xz`` is decompressed next to
    itself, or into ``to_path``); returns the folder (or file) written."""
    if to_path is None:
        to_path = os.path.dirname(from_path)
    kind = _archive_kind(from_path)
    if kind == "tar":
        with tarfile.open(from_path, "r:*") as tar:
            tar.extractall(to_path, filter="data")
    elif kind == "zip":
        with zipfile.ZipFile(from_path, "r") as z:
            z.extractall(to_path)
    else:
        name = os.path.basename(from_path)[:-len(kind)]
        out = os.path.join(to_path, name) if os.path.isdir(to_path) else to_path
        with _COMPRESSIONS[kind](from_path, "rb") as rf, open(out, "wb") as wf:
            shutil.copyfileobj(rf, wf)
        to_path = out
    if remove_finished:
        os.remove(from_path)
    return to_path


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False):
    download_root = os.path.expanduser(download_root)
    extract_root = extract_root or download_root
    filename = filename or os.path.basename(url)
    download_url(url, download_root, filename, md5)
    archive = os.path.join(download_root, filename)
    return extract_archive(archive, extract_root, remove_finished)


def verify_str_arg(value, arg=None, valid_values=None, custom_msg=None):
    if not isinstance(value, str):
        where = "" if arg is None else f" for argument {arg},"
        raise ValueError(f"Expected type str{where} but got type {type(value)}.")
    if valid_values is None:
        return value
    if value not in valid_values:
        if custom_msg is not None:
            raise ValueError(custom_msg)
        valid = ", ".join(repr(v) for v in valid_values)
        raise ValueError(f"Unknown value '{value}' for argument {arg}. Valid values are {{{valid}}}.")
    return value
