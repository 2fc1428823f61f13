# A tokenizer built from a vocabulary written here: no model download, no network.
import os
import tempfile

from transformers import BertTokenizer

vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "musl", "glibc", "alpine", "debian", "differ", "##s"]
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "vocab.txt")
    with open(path, "w") as f:
        f.write("\n".join(vocab) + "\n")
    tok = BertTokenizer(vocab_file=path)
    ids = tok("musl glibc differs")["input_ids"]
assert ids == [2, 5, 6, 9, 10, 3], ids
print("transformers tokenizer ok:", ids)
