#!/bin/bash
#SBATCH --job-name 'two words' --comment="say \"hi\"" --wckey=a\ b
#SBATCH --profile=task,gpu --profile-interval=5s --switches=2@10:00
#SBATCH --input=dataset:climate --dataflow --split=file --task-cmd "wc -l"
#SBATCH --unknown-option value --nodes=2-4 --exclusive=user
echo done
