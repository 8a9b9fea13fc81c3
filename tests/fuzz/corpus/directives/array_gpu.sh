#!/bin/sh
#LOCUS --array=0-15:4%2
#LOCUS --gpus-per-node=a100:2 --gpu-bind=closest
#LOCUS --export=ALL,OMP_NUM_THREADS=8
#SBATCH -Hn4 -c 8
# a comment keeps reading
#LOCUS --dependency=afterok:12:13 --qos high -p gpu
python train.py --task $LOCUS_ARRAY_TASK_ID
#SBATCH --mem=1G
