# Smoke test for scikit-learn (and numpy/scipy underneath): fit LogisticRegression and a
# DecisionTree on a generated, separable-enough dataset, predict on held-out rows and require an
# accuracy threshold. Exits non-zero on a wrong result.
import sklearn
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

X, y = make_classification(n_samples=600, n_features=10, n_informative=6, n_redundant=2,
                           class_sep=1.5, random_state=0)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)

lr = LogisticRegression(max_iter=1000).fit(X_tr, y_tr)
acc_lr = accuracy_score(y_te, lr.predict(X_te))
assert acc_lr >= 0.85, acc_lr

tree = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X_tr, y_tr)
acc_tree = accuracy_score(y_te, tree.predict(X_te))
assert acc_tree >= 0.75, acc_tree

# same data, same seed: the fitted tree must predict identically
tree2 = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X_tr, y_tr)
assert (tree2.predict(X_te) == tree.predict(X_te)).all()

print("scikit-learn %s ok: logistic regression acc=%.3f, decision tree acc=%.3f"
      % (sklearn.__version__, acc_lr, acc_tree))
