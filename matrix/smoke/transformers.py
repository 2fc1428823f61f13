# A WordPiece tokenizer built from a vocabulary given here: no model download, no network.
from transformers import BertTokenizer

vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "musl", "glibc", "alpine", "debian", "differ", "##s"]
tok = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})
assert tok.tokenize("musl glibc differs") == ["musl", "glibc", "differ", "##s"], tok.tokenize("musl glibc differs")
ids = tok("musl glibc differs")["input_ids"]
assert ids == [2, 5, 6, 9, 10, 3], ids
print("transformers tokenizer ok:", ids)
