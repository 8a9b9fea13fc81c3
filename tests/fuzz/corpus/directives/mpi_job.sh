#!/bin/bash
#SBATCH --job-name=lattice
#SBATCH -N 4 --ntasks-per-node=32
#SBATCH --time=1-12:00:00
#SBATCH --mem=120G
#SBATCH -o logs/%x-%j.out -e logs/%x-%j.err
#SBATCH --constraint="ib&(a100|v100)"
#SBATCH --mail-type=END,FAIL   # accepted, not acted on
srun ./lattice --steps 1000
