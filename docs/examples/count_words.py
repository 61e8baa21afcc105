"""The example of docs/tasks.md."""

import trunkline as luigi


class Words(luigi.ExternalTask):
    """Made outside the workflow: trunkline only checks that it exists."""

    def output(self):
        return luigi.LocalTarget("/tmp/words.txt")


class CountWords(luigi.Task):
    def requires(self):
        return Words()

    def output(self):
        return luigi.LocalTarget("/tmp/word-count.txt")

    def run(self):
        with self.input().open("r") as words:
            count = sum(len(line.split()) for line in words)
        with self.output().open("w") as out:
            out.write(f"{count}\n")


if __name__ == "__main__":
    with open("/tmp/words.txt", "w") as f:
        f.write("the quick brown fox\n")
    luigi.build([CountWords()], local_scheduler=True)
