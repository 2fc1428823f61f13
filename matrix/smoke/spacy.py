# A blank English pipeline (no model download) tokenising text.
import spacy

nlp = spacy.blank("en")
doc = nlp("Alpine uses musl; Debian uses glibc.")
tokens = [t.text for t in doc]
assert tokens == ["Alpine", "uses", "musl", ";", "Debian", "uses", "glibc", "."], tokens
print("spacy blank pipeline ok:", len(tokens), "tokens")
