"""Word count with Spark in local mode (docs/integrations/engines.md).

    pip install 'trunkline[spark]'      # pyspark; Spark needs Java 17 or later
    python docs/examples/spark_wordcount.py WordCount --source README.md --destination /tmp/wc.tsv --local-scheduler
"""

import operator

import trunkline as luigi
from trunkline.contrib.spark import PySparkTask


class Text(luigi.ExternalTask):
    path = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.path)


class WordCount(PySparkTask):
    source = luigi.Parameter()
    destination = luigi.Parameter()

    # usually in the [spark] section of the configuration instead
    master = "local[1]"
    driver_memory = "512m"

    def requires(self):
        return Text(self.source)

    def output(self):
        return luigi.LocalTarget(self.destination)

    def app_options(self):
        # main() below gets these after the SparkContext
        return [self.input().path]

    def main(self, sc, source):
        words = sc.textFile(source).flatMap(lambda line: line.lower().split())
        counts = words.map(lambda word: (word, 1)).reduceByKey(operator.add).collect()
        with self.output().open("w") as f:
            for word, n in sorted(counts):
                f.write(f"{word}\t{n}\n")


if __name__ == "__main__":
    luigi.run()
